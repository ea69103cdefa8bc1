/**
 * Training-state checkpoints: {@link vecopt.checkpoint.Checkpoint} saves an optimizer's parameters, state and
 * counters to a safetensors file and restores them bitwise; {@link vecopt.checkpoint.CheckpointFiles} keeps the
 * newest few in a directory, crash-safe; {@link vecopt.checkpoint.BackgroundSave} writes them while training goes
 * on; {@link vecopt.checkpoint.SafetensorsFile} and {@link vecopt.checkpoint.SafetensorsWriter} read and write the
 * format (https://huggingface.co/docs/safetensors).
 */
package vecopt.checkpoint;
