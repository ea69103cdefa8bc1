package vecopt.spark;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.rdd.RDD;
import scala.collection.Iterator;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractFunction1;
import vecopt.zero.Communicator;
import vecopt.zero.GlooCommunicator;

/**
 * A data-parallel training loop as one long-lived Spark barrier stage (Spark's barrier execution mode, Spark 2.4
 * and later): {@code ranks} tasks, gang-scheduled (all start together or none does) and restarted together when one
 * fails, each running {@link RankTask#run} with rank = its partition id and a {@link Communicator} to its peers.
 *
 * <p>The stage meets through Spark once, at start: rank 0 picks a free port for Gloo's rendezvous store, and one
 * {@code BarrierTaskContext.allGather} tells every task where it is (each {@code barrier()}/{@code allGather()}
 * of Spark costs about a second, fine once, useless per step). From then on every step's data moves over Gloo
 * ({@link GlooCommunicator}), never through Spark.
 *
 * <pre>{@code
 * List<float[]> finals = BarrierStage.run(sparkContext, 2, Duration.ofSeconds(60), comm -> {
 *     // build the model replica, then: try (ZeroStep zero = ZeroStep.create(model, comm, ...)) { ... }
 *     return finalParams;
 * });
 * }</pre>
 */
public final class BarrierStage {
    private BarrierStage() {
    }

    /** What each rank runs; serialized to the executors with its captured values. */
    @FunctionalInterface
    public interface RankTask<R extends Serializable> extends Serializable {
        R run(Communicator comm) throws Exception;
    }

    /**
     * Runs {@code task} on {@code ranks} barrier tasks and returns their results in rank order.
     *
     * @param timeout how long a collective waits for its peers (Gloo's timeout) before the task fails
     * @throws IllegalArgumentException for {@code ranks < 1} or a timeout that is not positive, before any job starts
     */
    public static <R extends Serializable> List<R> run(SparkContext sc, int ranks, Duration timeout,
                                                       RankTask<R> task) {
        if (sc == null) {
            throw new IllegalArgumentException("sc must not be null");
        }
        if (ranks < 1) {
            throw new IllegalArgumentException("ranks must be >= 1, got " + ranks);
        }
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, got " + timeout);
        }
        if (task == null) {
            throw new IllegalArgumentException("task must not be null");
        }
        List<Integer> ids = new ArrayList<>(ranks);
        for (int r = 0; r < ranks; r++) {
            ids.add(r);
        }
        RDD<Integer> rdd = JavaSparkContext.fromSparkContext(sc).parallelize(ids, ranks).rdd();
        // Not RDDBarrier.mapPartitionsWithEvaluator: it does not create a barrier stage.
        Object collected = rdd.barrier().mapPartitions(new Rank<>(ranks, timeout.toMillis(), task), false,
                ClassTag$.MODULE$.apply(Object.class)).collect();
        Object[] results = (Object[]) collected;
        List<R> out = new ArrayList<>(results.length);
        for (Object o : results) {
            @SuppressWarnings("unchecked")
            R r = (R) o;
            out.add(r);
        }
        return out;
    }

    /** One barrier task: the rendezvous, the communicator, the rank's task. */
    private static final class Rank<R extends Serializable> extends AbstractFunction1<Iterator<Integer>, Iterator<Object>>
            implements Serializable {
        private final int ranks;
        private final long timeoutMillis;
        private final RankTask<R> task;

        Rank(int ranks, long timeoutMillis, RankTask<R> task) {
            this.ranks = ranks;
            this.timeoutMillis = timeoutMillis;
            this.task = task;
        }

        @Override
        public Iterator<Object> apply(Iterator<Integer> partition) {
            BarrierTaskContext ctx = BarrierTaskContext.get();
            int rank = ctx.partitionId();
            String host = host(ctx.getTaskInfos()[rank].address());
            // Rank 0 hosts Gloo's store; the port is free when looked at and taken moments later by the store.
            int port = rank == 0 ? freePort(host) : 0;
            String[] all = ctx.allGather(host + " " + port); // the one rendezvous through Spark
            String[] zero = all[0].split(" ");
            try (GlooCommunicator comm = GlooCommunicator.connect(zero[0], Integer.parseInt(zero[1]), host, rank,
                    ranks, Duration.ofMillis(timeoutMillis))) {
                Object result = task.run(comm);
                return scala.collection.Iterator$.MODULE$.single(result);
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException("rank " + rank + " of " + ranks + " failed: " + e, e);
            }
        }
    }

    /** The host part of a task's address ("host:port", or a bare host). */
    static String host(String address) {
        int colon = address.lastIndexOf(':');
        return colon > 0 && address.indexOf(':') == colon ? address.substring(0, colon) : address;
    }

    private static int freePort(String host) {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port for Gloo's store on " + host, e);
        }
    }
}
