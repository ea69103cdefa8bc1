/** Compiled as a named module, so that anything outside the engine's exported packages would not compile. */
module example {
    requires vecopt;
}
