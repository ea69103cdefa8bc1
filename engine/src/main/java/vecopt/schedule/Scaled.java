package vecopt.schedule;

/** {@code factor * inner.lr(step)}: the same product, in the same order, as PyTorch's {@code base_lr * lmbda(epoch)}. */
record Scaled(Schedule inner, double factor) implements Schedule {
    @Override
    public double lr(long step) {
        return factor * inner.lr(step);
    }

    @Override
    public String toString() {
        return factor + " x " + inner;
    }
}
