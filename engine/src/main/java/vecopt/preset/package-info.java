/**
 * Presets that pair optimizer options with a schedule, from the quick-reference table of the optimizer guide
 * "Optimizers and Schedules". The one package that depends on both {@code vecopt.optim} and
 * {@code vecopt.schedule}.
 *
 * <pre>{@code
 * Schedule schedule = Preset.LLM_PRETRAINING.schedule(100_000);
 * AdamOptions options = Preset.LLM_PRETRAINING.adamOptions().orElseThrow();
 * }</pre>
 */
package vecopt.preset;
