package vecopt.monitor;

import java.util.List;

/**
 * One episode of a {@link Symptom}: what was seen, with the numbers that triggered it, over which steps, and what to
 * do about it.
 *
 * @param symptom   what was recognised
 * @param firstStep the step (the optimizer's update count, {@code StepReport.step()}) that started the episode
 * @param lastStep  the last step on which the symptom was still seen (the episode may continue)
 * @param detail    the numbers, e.g. "grad norm 38.8 at step 12, 150x its running median 0.26"
 * @param causes    the likely causes, those the run's configuration makes likelier first
 * @param remedies  the remedies that apply to this run's configuration (e.g. no "add clipping" when it clips)
 */
public record Finding(Symptom symptom, long firstStep, long lastStep, String detail, List<String> causes,
                      List<String> remedies) {
    public Finding {
        causes = List.copyOf(causes);
        remedies = List.copyOf(remedies);
    }

    /** One line: the symptom, its numbers and the remedies, e.g. for a log. */
    @Override
    public String toString() {
        String steps = firstStep == lastStep ? "step " + firstStep : "steps " + firstStep + "-" + lastStep;
        return symptom.title() + " (" + steps + "): " + detail + ". Likely: " + String.join("; ", causes)
                + ". Try: " + String.join("; ", remedies) + ".";
    }
}
