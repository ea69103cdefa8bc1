package vecopt.monitor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Each symptom from a stream built to show it, at the edge of its threshold, and none from real healthy streams
 * recorded from {@code ./vecopt train} (the fixtures under {@code vecopt/monitor}).
 */
class MonitorTest {
    /** The symptoms of an unstable start: what warmup exists to prevent. */
    private static final Set<Symptom> EXPLOSION = EnumSet.of(Symptom.GRAD_NORM_SPIKE, Symptom.GRAD_NORM_GROWING,
            Symptom.LOSS_SPIKE, Symptom.LOSS_NAN, Symptom.NON_FINITE_SKIPS);

    /** One step's signals, as a StepReport and the trainer's loss carry them. */
    private record Step(long step, double lr, double gradNorm, double clipCoef, boolean skipped, double ratio,
                        double loss) {
        Step(long step, double lr, double gradNorm, double loss) {
            this(step, lr, gradNorm, 1.0, false, 1e-3, loss);
        }
    }

    private static Monitor quiet(Monitor.Builder b) {
        return b.logger(System.getLogger("vecopt.monitor.test")).build();
    }

    private static void feed(Monitor m, List<Step> steps) {
        for (Step s : steps) {
            m.observe(s.step, s.lr, true, s.gradNorm, s.clipCoef, s.skipped, s.ratio, true, s.loss);
        }
    }

    private static Set<Symptom> symptoms(Monitor m) {
        Set<Symptom> out = EnumSet.noneOf(Symptom.class);
        m.findings().forEach(f -> out.add(f.symptom()));
        return out;
    }

    /** A steady stream: lr 1e-3, grad norm 1 (with a small wobble), loss falling from 2 to about 1. */
    private static List<Step> steady(int n) {
        List<Step> out = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            out.add(new Step(i, 1e-3, 1 + 0.01 * (i % 5), 1 + 1.0 / Math.sqrt(i)));
        }
        return out;
    }

    private static List<Step> fixture(String name) throws IOException {
        List<Step> out = new ArrayList<>();
        try (InputStream in = MonitorTest.class.getResourceAsStream(name)) {
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            for (String line : text.split("\n")) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] f = line.split(",");
                out.add(new Step(Long.parseLong(f[0]) + 1, Double.parseDouble(f[1]), Double.parseDouble(f[3]),
                        Double.parseDouble(f[4]), Boolean.parseBoolean(f[5]), Double.parseDouble(f[6]),
                        Double.parseDouble(f[2])));
            }
        }
        return out;
    }

    @Test
    void aHealthyRunHasNoFindings() throws IOException {
        // ./vecopt train --lr 0.003 --recipes warmup+clip: update/weight ~2.5e-3, clipping on 18% of the steps
        Monitor m = quiet(Monitor.builder().clipGradNorm(1.0).totalSteps(600));
        feed(m, fixture("warmup-clip-lr0.003.csv"));
        assertEquals(List.of(), m.findings());
        Monitor synthetic = quiet(Monitor.builder());
        feed(synthetic, steady(400));
        assertEquals(List.of(), synthetic.findings());
    }

    @Test
    void theDemosNoWarmupRecipeSpikesAndItsWarmupRecipeDoesNot() throws IOException {
        Monitor noWarmup = quiet(Monitor.builder().totalSteps(600));
        feed(noWarmup, fixture("no-warmup-lr1.csv"));
        Finding spike = noWarmup.findings().stream().filter(f -> f.symptom() == Symptom.GRAD_NORM_SPIKE)
                .findFirst().orElseThrow();
        assertEquals(2, spike.firstStep()); // the second update: grad norm 2.1 -> 29.4 at lr 1.0
        assertTrue(spike.detail().contains("no warmup and no clipping are configured"), spike.detail());
        assertTrue(spike.remedies().contains("add gradient clipping (max_norm=1.0)"), spike.toString());
        assertTrue(spike.remedies().contains("add warmup (5% of steps)"), spike.toString());
        assertTrue(symptoms(noWarmup).contains(Symptom.LOSS_SPIKE), noWarmup.findings().toString());

        Monitor warmup = quiet(Monitor.builder().clipGradNorm(1.0).totalSteps(600));
        feed(warmup, fixture("warmup-clip-lr1.csv"));
        Set<Symptom> seen = symptoms(warmup);
        seen.retainAll(EXPLOSION);
        assertEquals(Set.of(), seen, warmup.findings().toString());
    }

    @Test
    void gradNormSpikeAtItsThreshold() {
        for (double factor : new double[] {Monitor.SPIKE_FACTOR, Math.nextDown(Monitor.SPIKE_FACTOR)}) {
            Monitor m = quiet(Monitor.builder());
            List<Step> s = new ArrayList<>();
            for (int i = 1; i <= 30; i++) {
                s.add(new Step(i, 1e-3, 2.0, 1.0));
            }
            s.add(new Step(31, 1e-3, 2.0 * factor, 1.0));
            feed(m, s);
            assertEquals(factor >= Monitor.SPIKE_FACTOR, symptoms(m).contains(Symptom.GRAD_NORM_SPIKE), "x" + factor);
        }
    }

    @Test
    void oneFindingPerEpisodeAndANewOneAfterAQuietStretch() {
        Monitor m = quiet(Monitor.builder());
        List<Step> s = new ArrayList<>();
        int step = 1;
        for (; step <= 20; step++) {
            s.add(new Step(step, 1e-3, 1.0, 1.0));
        }
        for (int k = 0; k < 3; k++, step++) { // a spike, then two more within the episode
            s.add(new Step(step, 1e-3, 100.0, 1.0));
            s.add(new Step(++step, 1e-3, 1.0, 1.0));
        }
        // step 26 was quiet already: QUIET - 2 more keep the episode open (a spike now extends it), QUIET - 1 end it
        List<Step> open = new ArrayList<>(s), closed = new ArrayList<>(s);
        for (int k = 0; k < Monitor.QUIET - 1; k++) {
            if (k < Monitor.QUIET - 2) {
                open.add(new Step(step + k, 1e-3, 1.0, 1.0));
            }
            closed.add(new Step(step + k, 1e-3, 1.0, 1.0));
        }
        open.add(new Step(step + Monitor.QUIET - 2, 1e-3, 100.0, 1.0));
        closed.add(new Step(step + Monitor.QUIET - 1, 1e-3, 100.0, 1.0));
        feed(m, closed);
        List<Finding> spikes = m.findings().stream().filter(f -> f.symptom() == Symptom.GRAD_NORM_SPIKE).toList();
        assertEquals(2, spikes.size(), spikes.toString());
        assertEquals(21, spikes.get(0).firstStep());
        assertEquals(25, spikes.get(0).lastStep()); // extended while the episode lasted
        assertEquals(25 + Monitor.QUIET + 1, spikes.get(1).firstStep()); // after QUIET steps without a spike
        Monitor stillOpen = quiet(Monitor.builder());
        feed(stillOpen, open);
        List<Finding> one = stillOpen.findings();
        assertEquals(1, one.size(), one.toString());
        assertEquals(25 + Monitor.QUIET, one.get(0).lastStep());
    }

    @Test
    void zeroAndVanishingGradients() {
        Monitor zero = quiet(Monitor.builder());
        List<Step> s = new ArrayList<>(steady(10));
        for (int i = 11; i < 11 + Monitor.ZERO_STEPS - 1; i++) {
            s.add(new Step(i, 1e-3, 0.0, 1.0));
        }
        feed(zero, s);
        assertFalse(symptoms(zero).contains(Symptom.ZERO_GRADIENTS)); // one step short
        feed(zero, List.of(new Step(11 + Monitor.ZERO_STEPS - 1, 1e-3, 0.0, 1.0)));
        assertTrue(symptoms(zero).contains(Symptom.ZERO_GRADIENTS));

        Monitor vanishing = quiet(Monitor.builder());
        List<Step> v = new ArrayList<>(steady(Monitor.EARLY)); // early median ~1.02
        for (int i = 0; i < Monitor.VANISHING_STEPS; i++) {
            v.add(new Step(Monitor.EARLY + 1 + i, 1e-3, 1e-5, 1.0));
        }
        feed(vanishing, v);
        assertTrue(symptoms(vanishing).contains(Symptom.VANISHING_GRADIENTS), vanishing.findings().toString());
    }

    @Test
    void growingNormsClippingOnMostStepsAndRepeatedSkips() {
        Monitor growing = quiet(Monitor.builder());
        List<Step> g = new ArrayList<>();
        for (int i = 1; i <= 2 * Monitor.GROWTH_WINDOW; i++) { // 1.0 then 4.0: each step under the spike factor
            g.add(new Step(i, 1e-3, i <= Monitor.GROWTH_WINDOW ? 1.0 : Monitor.GROWTH_FACTOR, 1.0));
        }
        feed(growing, g);
        assertEquals(Set.of(Symptom.GRAD_NORM_GROWING), symptoms(growing));

        for (int clippedSteps : new int[] {Monitor.CLIP_WINDOW / 2, Monitor.CLIP_WINDOW / 2 + 1}) {
            Monitor clip = quiet(Monitor.builder().clipGradNorm(1.0)); // clipped on the last clippedSteps steps
            List<Step> c = new ArrayList<>();
            for (int i = 1; i <= Monitor.CLIP_WINDOW; i++) {
                boolean clipped = i > Monitor.CLIP_WINDOW - clippedSteps;
                c.add(new Step(i, 1e-3, 1.0, clipped ? 0.5 : 1.0, false, 1e-3, 1.0));
            }
            feed(clip, c);
            assertEquals(2 * clippedSteps > Monitor.CLIP_WINDOW, symptoms(clip).contains(Symptom.CLIPPING_MOSTLY));
        }
        Monitor stopped = quiet(Monitor.builder().clipGradNorm(1.0)); // most steps clipped, but no longer
        List<Step> c = new ArrayList<>();
        for (int i = 1; i <= Monitor.CLIP_WINDOW; i++) {
            c.add(new Step(i, 1e-3, 1.0, i < Monitor.CLIP_WINDOW ? 0.5 : 1.0, false, 1e-3, 1.0));
        }
        feed(stopped, c);
        assertFalse(symptoms(stopped).contains(Symptom.CLIPPING_MOSTLY), stopped.findings().toString());

        Monitor skips = quiet(Monitor.builder());
        List<Step> k = new ArrayList<>(steady(10));
        for (int i = 0; i < Monitor.SKIP_COUNT; i++) {
            k.add(new Step(11 + 2 * i, 1e-3, Double.NaN, 1.0, true, Double.NaN, 1.0));
            k.add(new Step(12 + 2 * i, 1e-3, 1.0, 1.0));
        }
        feed(skips, k);
        Finding f = skips.findings().get(0);
        assertEquals(Symptom.NON_FINITE_SKIPS, f.symptom());
        assertEquals(11 + 2 * (Monitor.SKIP_COUNT - 1), f.firstStep());
    }

    @Test
    void updateRatiosAndTheDecayedEndOfASchedule() {
        Monitor small = quiet(Monitor.builder());
        List<Step> s = new ArrayList<>();
        for (int i = 1; i <= Monitor.RATIO_WINDOW; i++) {
            s.add(new Step(i, 1e-3, 1.0, 1.0, false, Monitor.RATIO_LOW / 2, 1.0));
        }
        feed(small, s);
        assertEquals(Set.of(Symptom.UPDATES_NEGLIGIBLE), symptoms(small));

        Monitor decayed = quiet(Monitor.builder()); // the same ratios while the lr has decayed to 1% of its peak
        List<Step> d = new ArrayList<>();
        d.add(new Step(1, 1e-3, 1.0, 1.0));
        for (int i = 2; i <= Monitor.RATIO_WINDOW + 1; i++) {
            d.add(new Step(i, 1e-5, 1.0, 1.0, false, Monitor.RATIO_LOW / 2, 1.0));
        }
        feed(decayed, d);
        assertEquals(Set.of(), symptoms(decayed));

        Monitor large = quiet(Monitor.builder().clipGradNorm(1.0).warmupSteps(100));
        List<Step> l = new ArrayList<>();
        for (int i = 1; i <= Monitor.RATIO_WINDOW; i++) {
            l.add(new Step(i, 1e-3, 1.0, 1.0, false, 2 * Monitor.RATIO_HIGH, 1.0));
        }
        feed(large, l);
        Finding f = large.findings().get(0);
        assertEquals(Symptom.UPDATES_TOO_LARGE, f.symptom());
        assertEquals(List.of("reduce the lr by 10x"), f.remedies()); // it already warms up
    }

    @Test
    void lossNanSpikeAndFlat() {
        Monitor nan = quiet(Monitor.builder().clipGradNorm(1.0));
        List<Step> n = new ArrayList<>(steady(5));
        n.add(new Step(6, 1e-3, 1.0, Double.NaN));
        feed(nan, n);
        Finding f = nan.findings().get(0);
        assertEquals(Symptom.LOSS_NAN, f.symptom());
        assertFalse(f.remedies().contains("add gradient clipping (max_norm=1.0)"), f.toString()); // it clips

        Monitor spike = quiet(Monitor.builder());
        List<Step> s = new ArrayList<>();
        for (int i = 1; i <= 20; i++) {
            s.add(new Step(i, 1e-3, 1.0, 2.0));
        }
        s.add(new Step(21, 1e-3, 1.0, 2.0 * Monitor.LOSS_SPIKE_FACTOR));
        feed(spike, s);
        assertEquals(Set.of(Symptom.LOSS_SPIKE), symptoms(spike));

        Monitor tiny = quiet(Monitor.builder()); // 5x of a loss near 0: under the floor, not a spike
        List<Step> t = new ArrayList<>(List.of(new Step(1, 1e-3, 1.0, 2.0)));
        for (int i = 2; i <= 20; i++) {
            t.add(new Step(i, 1e-3, 1.0, 0.001));
        }
        t.add(new Step(21, 1e-3, 1.0, 0.005));
        feed(tiny, t);
        assertEquals(Set.of(), symptoms(tiny));

        Monitor flat = quiet(Monitor.builder());
        List<Step> fl = new ArrayList<>();
        for (int i = 1; i <= Monitor.FLAT_STEPS; i++) {
            fl.add(new Step(i, 1e-3, 1.0, 2.0 - 0.001 * (i % 3)));
        }
        feed(flat, fl);
        Finding ff = flat.findings().get(0);
        assertEquals(Symptom.LOSS_FLAT, ff.symptom());
        assertEquals(Monitor.FLAT_STEPS, ff.firstStep());
    }

    @Test
    void lateWarmupAndFineTuningLr() {
        Monitor ramp = quiet(Monitor.builder().totalSteps(100));
        List<Step> r = new ArrayList<>();
        for (int i = 1; i <= 40; i++) {
            r.add(new Step(i, 1e-5 * i, 1.0, 1.0)); // still rising at 26% of the run
        }
        feed(ramp, r);
        Finding f = ramp.findings().get(0);
        assertEquals(Symptom.LR_STILL_RAMPING, f.symptom());
        assertEquals(26, f.firstStep());

        Monitor known = quiet(Monitor.builder().fineTuning(1e-4));
        feed(known, List.of(new Step(1, 5e-6, 1.0, 1.0), new Step(2, 1.01e-5, 1.0, 1.0)));
        assertEquals(List.of(2L), known.findings().stream().map(Finding::firstStep).toList());
        Monitor unknown = quiet(Monitor.builder().fineTuning(Double.NaN));
        feed(unknown, List.of(new Step(1, 2e-4, 1.0, 1.0)));
        assertEquals(Set.of(Symptom.FINE_TUNING_LR_HIGH), symptoms(unknown));
    }

    @Test
    void findingsReachTheListener() {
        List<Finding> heard = new ArrayList<>();
        Monitor m = Monitor.builder().logger(System.getLogger("vecopt.monitor.test")).listener(heard::add).build();
        List<Step> s = new ArrayList<>(steady(5));
        s.add(new Step(6, 1e-3, 100.0, 1.0));
        feed(m, s);
        assertEquals(m.findings(), heard);
        assertEquals(1, m.findingCount());
    }

    @Test
    void badSettingsAreRejectedByName() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Monitor.builder().clipGradNorm(-1))
                .getMessage().contains("maxNorm"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Monitor.builder().totalSteps(0))
                .getMessage().contains("totalSteps"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Monitor.builder().warmupSteps(-3))
                .getMessage().contains("warmupSteps"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Monitor.builder().fineTuning(0))
                .getMessage().contains("pretrainingLr"));
    }
}
