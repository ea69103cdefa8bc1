package vecopt.checkpoint;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What a trainer keeps in a checkpoint beside the optimizer: strings (e.g. the data loader's position, a run id)
 * and small float tensors (e.g. a loss scaler's state). Strings are stored in the metadata as {@code user.<key>},
 * tensors as {@code extra/<name>}; both come back from {@link Checkpoint#load} in {@link Restored}.
 *
 * <pre>{@code
 * Extras extras = Extras.none().withString("data.epoch", "3").withTensor("loss_scale", new float[] {65536f});
 * }</pre>
 *
 * @param strings by key
 * @param tensors by name; arrays are read when the checkpoint is written (an asynchronous save copies them at once)
 */
public record Extras(Map<String, String> strings, Map<String, float[]> tensors) {
    public Extras {
        strings = Collections.unmodifiableMap(new LinkedHashMap<>(strings));
        tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
        for (Map.Entry<String, String> e : strings.entrySet()) {
            Objects.requireNonNull(e.getValue(), "value of string '" + e.getKey() + "'");
            if (e.getKey().isBlank()) {
                throw new IllegalArgumentException("string keys must not be blank");
            }
        }
        for (Map.Entry<String, float[]> e : tensors.entrySet()) {
            Objects.requireNonNull(e.getValue(), "tensor '" + e.getKey() + "'");
            if (e.getKey().isBlank()) {
                throw new IllegalArgumentException("tensor names must not be blank");
            }
        }
    }

    /** No strings, no tensors. */
    public static Extras none() {
        return new Extras(Map.of(), Map.of());
    }

    public Extras withString(String key, String value) {
        Map<String, String> m = new LinkedHashMap<>(strings);
        m.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
        return new Extras(m, tensors);
    }

    public Extras withTensor(String name, float[] values) {
        Map<String, float[]> m = new LinkedHashMap<>(tensors);
        m.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(values, "values"));
        return new Extras(strings, m);
    }
}
