/**
 * Training-health diagnostics: a {@link vecopt.monitor.Monitor} reads the step reports (and the loss) and turns the
 * optimizer guide's debugging table into {@link vecopt.monitor.Finding}s, each naming its numbers, steps, likely
 * causes and remedies. It reads what the step already computed; it adds no pass over the parameters.
 */
package vecopt.monitor;
