package vecopt.examples;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import vecopt.charts.Figure;
import vecopt.preset.Preset;
import vecopt.schedule.DecayShape;
import vecopt.schedule.HuggingFace;
import vecopt.schedule.PyTorch;
import vecopt.schedule.Schedules;

/**
 * {@code ./vecopt schedules}: prints a text table of schedules and writes them as an SVG chart (and a PNG next to
 * it). Which schedules: the configuration presets (default), the Hugging Face family, the PyTorch family, or the
 * optimizer and warmup guides' ones.
 */
public final class ScheduleChart {
    private static final String USAGE = """
            usage: ./vecopt schedules [--steps N] [--out FILE.svg] [--set presets|hf|torch|guides] [--rows R]
                                      [--overlay] [--no-png]
              --steps N     steps to plot and tabulate (default 1000)
              --out FILE    SVG to write (default out/schedules.svg); a PNG is written next to it
              --set NAME    presets (default): the configurations table (pre-training, fine-tuning, BERT, CNN)
                            hf:    Hugging Face linear / cosine / hard restarts / polynomial / constant with warmup
                            torch: LinearLR+CosineAnnealingLR (SequentialLR), StepLR, MultiStepLR, ExponentialLR
                            guides: the warmups and decays of the warmup and optimizer guides
              --rows R      rows of the text table (default 11)
              --overlay     all schedules in one panel on a shared scale (default: one panel each)
              --no-png      write the SVG only
            """;

    public static void main(String[] args) throws IOException {
        long steps = 1000;
        Path out = Path.of("out", "schedules.svg");
        String set = "presets";
        int rows = 11;
        boolean overlay = false;
        boolean png = true;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--steps" -> steps = number(value(args, ++i, "--steps"), "--steps");
                case "--out" -> out = Path.of(value(args, ++i, "--out"));
                case "--set" -> set = value(args, ++i, "--set");
                case "--rows" -> rows = (int) Math.min(1000, number(value(args, ++i, "--rows"), "--rows"));
                case "--overlay" -> overlay = true;
                case "--no-png" -> png = false;
                case "-h", "--help" -> {
                    System.out.print(USAGE);
                    return;
                }
                default -> fail("unknown argument '" + args[i] + "'");
            }
        }
        if (steps < 10) {
            fail("--steps must be >= 10, got " + steps);
        }
        if (rows < 2) {
            fail("--rows must be >= 2, got " + rows);
        }
        List<NamedSchedule> schedules = schedules(set, steps);
        System.out.printf(Locale.ROOT, "%s schedules over %d steps%n", set, steps);
        System.out.print(TextTable.render(schedules, steps, rows));
        Figure figure = overlay ? ScheduleFigure.overlay(set + " schedules", schedules, steps)
                : ScheduleFigure.panels(schedules, steps);
        figure.writeSvg(out);
        System.out.println("wrote " + out);
        if (png) {
            Path pngFile = Figure.pngBeside(out);
            figure.writePng(pngFile);
            System.out.println("wrote " + pngFile);
        }
    }

    /** The schedules of a set, each named and with its warmup end as built here. */
    static List<NamedSchedule> schedules(String set, long steps) {
        long w = Math.max(1, steps / 10);
        return switch (set) {
            case "presets" -> {
                List<NamedSchedule> l = new ArrayList<>();
                for (Preset p : Preset.values()) {
                    l.add(new NamedSchedule(p.title(), p.schedule(steps), p.warmupSteps(steps)));
                }
                yield l;
            }
            case "hf" -> List.of(
                    new NamedSchedule(f("linear with warmup(1.0, W=%d, T=%d)", w, steps),
                            HuggingFace.linearScheduleWithWarmup(1.0, w, steps), w),
                    new NamedSchedule(f("cosine with warmup(1.0, W=%d, T=%d)", w, steps),
                            HuggingFace.cosineScheduleWithWarmup(1.0, w, steps), w),
                    new NamedSchedule(f("cosine with hard restarts(1.0, W=%d, T=%d, cycles=3)", w, steps),
                            HuggingFace.cosineWithHardRestartsScheduleWithWarmup(1.0, w, steps, 3), w),
                    new NamedSchedule(f("polynomial decay with warmup(1.0 -> 0.1, W=%d, T=%d, power=2.0)", w, steps),
                            HuggingFace.polynomialDecayScheduleWithWarmup(1.0, w, steps, 0.1, 2.0), w),
                    new NamedSchedule(f("constant with warmup(1.0, W=%d)", w),
                            HuggingFace.constantScheduleWithWarmup(1.0, w), w));
            case "torch" -> List.of(
                    new NamedSchedule(f("SequentialLR: LinearLR(0.1 -> 1, %d) then CosineAnnealingLR", w),
                            PyTorch.sequentialLR(List.of(PyTorch.linearLR(1.0, 0.1, 1.0, w),
                                    PyTorch.cosineAnnealingLR(1.0, steps - w, 0.0)), w), w),
                    NamedSchedule.of(f("StepLR(1.0, step_size=%d, gamma=0.5)", Math.max(1, steps / 4)),
                            PyTorch.stepLR(1.0, Math.max(1, steps / 4), 0.5)),
                    NamedSchedule.of(f("MultiStepLR(1.0, milestones=[%d, %d], gamma=0.1)", steps / 2, steps * 3 / 4),
                            PyTorch.multiStepLR(1.0, new long[] {steps / 2, steps * 3 / 4}, 0.1)),
                    NamedSchedule.of(f("ExponentialLR(1.0, gamma=%s)", Math.pow(0.01, 1.0 / steps)),
                            PyTorch.exponentialLR(1.0, Math.pow(0.01, 1.0 / steps))));
            case "guides" -> {
                long stable = steps * 6 / 10;
                yield List.of(
                        new NamedSchedule(f("linear warmup(1.0, W=%d)", w), Schedules.linearWarmup(1.0, w), w),
                        new NamedSchedule(f("exponential warmup(1.0, W=%d)", w), Schedules.exponentialWarmup(1.0, w),
                                w),
                        new NamedSchedule(f("warmup cosine(1.0 -> 0.1, W=%d, T=%d)", w, steps),
                                Schedules.warmupCosine(1.0, 0.1, w, steps), w),
                        NamedSchedule.of(f("linear decay(1.0, T=%d)", steps), Schedules.linearDecay(1.0, steps)),
                        NamedSchedule.of(f("cosine decay(1.0 -> 0.1, T=%d)", steps),
                                Schedules.cosineDecay(1.0, 0.1, steps)),
                        new NamedSchedule(f("warmup-stable-decay(1.0 -> 0.1, W=%d, S=%d, D=%d, cosine)", w, stable,
                                steps - w - stable),
                                Schedules.warmupStableDecay(1.0, 0.1, w, stable, steps - w - stable,
                                        DecayShape.COSINE), w));
            }
            default -> {
                fail("--set must be presets, hf, torch or guides, got '" + set + "'");
                yield List.of();
            }
        };
    }

    private static String f(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }

    private static long number(String text, String flag) {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            fail(flag + " must be a whole number, got '" + text + "'");
            return 0;
        }
    }

    private static String value(String[] args, int i, String flag) {
        if (i >= args.length) {
            fail(flag + " needs a value");
        }
        return args[i];
    }

    private static void fail(String message) {
        System.err.println("vecopt schedules: " + message);
        System.err.print(USAGE);
        System.exit(2);
    }
}
