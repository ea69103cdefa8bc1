package vecopt.charts;

import java.awt.Color;

/**
 * The one colour convention of every vecopt chart. Data series take the series colours by slot (the caller keeps a
 * slot per thing, e.g. per recipe, so that the thing has one colour in every panel); reference lines (ceilings,
 * chance level, fixed levels) are dashed greys; a marker is dashed in the colour of the series it belongs to, or in
 * {@link #NEUTRAL} when it belongs to none.
 *
 * <p>The series colours are Matplotlib's "tab10" categorical palette without its grey, which would be mistaken for a
 * reference line.
 */
public final class Palette {
    private static final Color[] SERIES = {
        new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0xd62728), new Color(0x9467bd),
        new Color(0x8c564b), new Color(0xe377c2), new Color(0xbcbd22), new Color(0x17becf)};
    private static final Color[] REFERENCE = {
        new Color(0x444444), new Color(0x999999), new Color(0x777777), new Color(0xbbbbbb)};

    /** Markers that belong to no series. */
    public static final Color NEUTRAL = new Color(0x555555);
    /** Titles, axis titles, tick labels and legend text. */
    public static final Color TEXT = new Color(0x222222);
    /** Grid lines. */
    public static final Color GRID = new Color(0xe6e6e6);
    /** The frame of a plot. */
    public static final Color FRAME = new Color(0xaaaaaa);

    private Palette() {
    }

    /** How many distinct series colours there are before they repeat. */
    public static int seriesColours() {
        return SERIES.length;
    }

    /** The colour of series slot {@code slot} (slots past the end wrap around). */
    public static Color series(int slot) {
        return SERIES[Math.floorMod(slot, SERIES.length)];
    }

    /** The grey of the {@code index}-th reference line of a panel (they alternate so that neighbours differ). */
    public static Color reference(int index) {
        return REFERENCE[Math.floorMod(index, REFERENCE.length)];
    }
}
