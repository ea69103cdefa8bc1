package vecopt.examples.train;

import java.util.function.LongToDoubleFunction;

/**
 * Stand-in for {@code vecopt.schedule} until it lands in main: the two closed-form schedules the recipes need, with
 * Hugging Face's conventions ({@code get_cosine_schedule_with_warmup}, {@code get_linear_schedule_with_warmup}):
 * {@code lr(s) = peak * s / warmup} for {@code s < warmup}, then decay to 0 at {@code total}.
 */
final class LocalSchedules {
    private LocalSchedules() {
    }

    static LongToDoubleFunction warmupCosine(double peak, long warmup, long total) {
        return s -> s < warmup ? peak * s / warmup
                : peak * 0.5 * (1 + Math.cos(Math.PI * Math.min(1.0, (double) (s - warmup) / (total - warmup))));
    }

    static LongToDoubleFunction warmupLinear(double peak, long warmup, long total) {
        return s -> s < warmup ? peak * s / warmup
                : peak * Math.max(0.0, (double) (total - s) / (total - warmup));
    }
}
