package vecopt.charts;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class TickFormatTest {
    @Test
    void plainNumbersHaveNoExponentAndNoTrailingZeros() {
        TickFormat f = TickFormat.plain();
        assertEquals("0", f.format(0.0));
        assertEquals("0.0003", f.format(3e-4));
        assertEquals("0.0625", f.format(0.0625));
        assertEquals("1500", f.format(1500.0));
        assertEquals("0.3", f.format(0.1 + 0.2), "four significant digits hide binary noise");
    }

    @Test
    void aCallersFunctionWritesTheLabel() {
        assertEquals("1M", new TickFormat(v -> (long) v / (1 << 20) + "M").format(1 << 20));
    }
}
