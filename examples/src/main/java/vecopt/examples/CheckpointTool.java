package vecopt.examples;

import java.io.IOException;
import java.nio.file.Path;
import vecopt.checkpoint.Checkpoint;
import vecopt.checkpoint.CheckpointException;

/**
 * {@code ./vecopt checkpoint inspect FILE}: prints what a checkpoint holds (optimizer, steps, groups, the trainer's
 * strings, every tensor's dtype, shape and checksum), after verifying every checksum. Exit code 1 when the file is
 * damaged or not safetensors (the message says why), 2 for a usage error.
 */
public final class CheckpointTool {
    static final String USAGE = "usage: ./vecopt checkpoint inspect FILE";

    private CheckpointTool() {
    }

    public static void main(String[] args) {
        if (args.length == 1 && (args[0].equals("-h") || args[0].equals("--help"))) {
            System.out.println(USAGE);
            return;
        }
        if (args.length != 2 || !args[0].equals("inspect")) {
            System.err.println(USAGE);
            System.exit(2);
        }
        try {
            System.out.print(Checkpoint.describe(Path.of(args[1])));
        } catch (CheckpointException e) {
            System.err.println("vecopt checkpoint: " + e.getMessage());
            System.exit(1);
        } catch (IOException e) {
            System.err.println("vecopt checkpoint: cannot read " + args[1] + ": " + e);
            System.exit(1);
        }
    }
}
