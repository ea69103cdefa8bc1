package vecopt.charts;

import java.math.BigDecimal;
import java.math.MathContext;
import java.text.FieldPosition;
import java.text.NumberFormat;
import java.text.ParsePosition;
import java.util.function.DoubleFunction;

/** A {@link DoubleFunction} as the {@link NumberFormat} JFreeChart's axes take for their tick labels. */
final class TickFormat extends NumberFormat {
    private static final long serialVersionUID = 1L;

    private final transient DoubleFunction<String> format;

    TickFormat(DoubleFunction<String> format) {
        this.format = format;
    }

    /** Plain numbers with at most four significant digits: 8, 0.5, 0.0625, 1500. */
    static TickFormat plain() {
        return new TickFormat(v -> new BigDecimal(v).round(new MathContext(4)).stripTrailingZeros().toPlainString());
    }

    @Override
    public StringBuffer format(double number, StringBuffer to, FieldPosition pos) {
        return to.append(format.apply(number));
    }

    @Override
    public StringBuffer format(long number, StringBuffer to, FieldPosition pos) {
        return to.append(format.apply(number));
    }

    /** Tick labels are only written, never read back. */
    @Override
    public Number parse(String source, ParsePosition pos) {
        throw new UnsupportedOperationException("tick labels are not parsed");
    }
}
