package vecopt.schedule.plot;

import java.util.List;

/** A laid-out picture: its size in pixels and the marks to draw, in order. */
public record Chart(int width, int height, List<Mark> marks) {
    public Chart {
        marks = List.copyOf(marks);
    }
}
