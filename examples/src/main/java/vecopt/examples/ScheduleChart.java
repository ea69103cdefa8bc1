package vecopt.examples;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import vecopt.schedule.HuggingFace;
import vecopt.schedule.Preset;
import vecopt.schedule.PyTorch;
import vecopt.schedule.Schedule;
import vecopt.schedule.Schedules;
import vecopt.schedule.plot.Chart;
import vecopt.schedule.plot.SchedulePlot;
import vecopt.schedule.plot.Svg;
import vecopt.schedule.plot.TextTable;

/**
 * {@code ./vecopt schedules}: prints a text table of schedules and writes them as an SVG chart (and a PNG next to
 * it). Which schedules: the configuration presets (default), the Hugging Face family, the PyTorch family, or the
 * reference material's ones.
 */
public final class ScheduleChart {
    private static final String USAGE = """
            usage: ./vecopt schedules [--steps N] [--out FILE.svg] [--set presets|hf|torch|seeds] [--rows R]
                                      [--overlay] [--no-png]
              --steps N     steps to plot and tabulate (default 1000)
              --out FILE    SVG to write (default out/schedules.svg); a PNG is written next to it
              --set NAME    presets (default): the configurations table (pre-training, fine-tuning, BERT, CNN)
                            hf:    Hugging Face linear / cosine / hard restarts / polynomial / constant with warmup
                            torch: LinearLR+CosineAnnealingLR (SequentialLR), StepLR, MultiStepLR, ExponentialLR
                            seeds: the reference material's warmups and decays
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
        List<Schedule> schedules = schedules(set, steps);
        System.out.printf(Locale.ROOT, "%s schedules over %d steps%n", set, steps);
        System.out.print(TextTable.render(schedules, steps, rows));
        Chart chart = overlay ? SchedulePlot.overlay(set + " schedules", schedules, steps)
                : SchedulePlot.panels(schedules, steps);
        Svg.write(chart, out);
        System.out.println("wrote " + out);
        if (png) {
            String name = out.getFileName().toString();
            Path pngFile = out.resolveSibling((name.endsWith(".svg") ? name.substring(0, name.length() - 4) : name)
                    + ".png");
            PngChart.write(chart, pngFile);
            System.out.println("wrote " + pngFile);
        }
    }

    static List<Schedule> schedules(String set, long steps) {
        long w = Math.max(1, steps / 10);
        return switch (set) {
            case "presets" -> {
                List<Schedule> l = new ArrayList<>();
                for (Preset p : Preset.values()) {
                    l.add(p.schedule(steps));
                }
                yield l;
            }
            case "hf" -> List.of(
                    HuggingFace.linearScheduleWithWarmup(1.0, w, steps),
                    HuggingFace.cosineScheduleWithWarmup(1.0, w, steps),
                    HuggingFace.cosineWithHardRestartsScheduleWithWarmup(1.0, w, steps, 3),
                    HuggingFace.polynomialDecayScheduleWithWarmup(1.0, w, steps, 0.1, 2.0),
                    HuggingFace.constantScheduleWithWarmup(1.0, w));
            case "torch" -> List.of(
                    PyTorch.sequentialLR(List.of(PyTorch.linearLR(1.0, 0.1, 1.0, w),
                            PyTorch.cosineAnnealingLR(1.0, steps - w, 0.0)), w)
                            .named("SequentialLR: LinearLR(0.1 -> 1, " + w + ") then CosineAnnealingLR"),
                    PyTorch.stepLR(1.0, Math.max(1, steps / 4), 0.5),
                    PyTorch.multiStepLR(1.0, new long[] {steps / 2, steps * 3 / 4}, 0.1),
                    PyTorch.exponentialLR(1.0, Math.pow(0.01, 1.0 / steps)));
            case "seeds" -> List.of(
                    Schedules.linearWarmup(1.0, w),
                    Schedules.exponentialWarmup(1.0, w),
                    Schedules.warmupCosine(1.0, 0.1, w, steps),
                    Schedules.linearDecay(1.0, steps),
                    Schedules.cosineDecay(1.0, 0.1, steps),
                    Schedules.warmupStableDecay(1.0, 0.1, w, steps * 6 / 10, steps - w - steps * 6 / 10,
                            vecopt.schedule.DecayShape.COSINE));
            default -> {
                fail("--set must be presets, hf, torch or seeds, got '" + set + "'");
                yield List.of();
            }
        };
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
