package vecopt.optim;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import vecopt.param.ParamSet;
import vecopt.param.Tensor;

/**
 * Assigns each tensor of a parameter set to one group: the one extra group whose selector matches it, or the group
 * named "default" (always group 0) when none does. A tensor two selectors match is an error, named.
 */
final class GroupAssignment<O extends GroupOptions> {
    static final String DEFAULT = "default";

    private record Selector<O>(O options, Predicate<Tensor> matches) {
    }

    private final Map<String, Selector<O>> extra = new LinkedHashMap<>();

    void add(String name, O options, Predicate<Tensor> which) {
        if (name.equals(DEFAULT) || extra.containsKey(name)) {
            throw new IllegalArgumentException("group name '" + name + "' is already taken");
        }
        extra.put(name, new Selector<>(options, which));
    }

    List<ParamGroup<O>> assign(ParamSet params, O defaults) {
        Map<String, List<Tensor>> members = new LinkedHashMap<>();
        members.put(DEFAULT, new ArrayList<>());
        extra.keySet().forEach(k -> members.put(k, new ArrayList<>()));
        for (Tensor t : params.tensors()) {
            String owner = DEFAULT;
            for (Map.Entry<String, Selector<O>> e : extra.entrySet()) {
                if (e.getValue().matches().test(t)) {
                    if (!owner.equals(DEFAULT)) {
                        throw new IllegalArgumentException("tensor '" + t.name() + "' is selected by groups '"
                                + owner + "' and '" + e.getKey() + "'");
                    }
                    owner = e.getKey();
                }
            }
            members.get(owner).add(t);
        }
        List<ParamGroup<O>> out = new ArrayList<>();
        out.add(new ParamGroup<>(DEFAULT, defaults, members.get(DEFAULT)));
        extra.forEach((name, sel) -> out.add(new ParamGroup<>(name, sel.options(), members.get(name))));
        return List.copyOf(out);
    }
}
