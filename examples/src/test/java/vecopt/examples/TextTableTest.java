package vecopt.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import vecopt.schedule.HuggingFace;
import vecopt.preset.Preset;

/** The table shows the schedules' own values at its steps, and where each warmup ends. */
class TextTableTest {
    @Test
    void textTableShowsTheValuesAtItsSteps() {
        NamedSchedule a = new NamedSchedule("cosine with warmup", HuggingFace.cosineScheduleWithWarmup(3e-4, 100, 1000),
                100);
        NamedSchedule b = new NamedSchedule(Preset.CNN.title(), Preset.CNN.schedule(1000), 0);
        String table = TextTable.render(List.of(a, b), 1000, 5);
        assertTrue(table.contains("[1] " + a.name()) && table.contains("[2] " + b.name()), table);
        int rows = 0;
        for (String line : table.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 3 && f[0].matches("\\d+")) {
                long step = Long.parseLong(f[0]);
                assertEquals(String.format(Locale.ROOT, "%.4e", a.schedule().lr(step)), f[1], line);
                assertEquals(String.format(Locale.ROOT, "%.4e", b.schedule().lr(step)), f[2], line);
                rows++;
            }
        }
        assertEquals(6, rows, "0, 250, 500, 749, 999 and the end of warmup, 100");
        assertTrue(table.contains(" 100 ") && table.contains("<- warmup of [1] ends"), table);
    }
}
