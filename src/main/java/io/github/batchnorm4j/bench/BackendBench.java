package io.github.batchnorm4j.bench;

import java.util.List;

/** The benchmark of one backend: times every op of a case beside that device's copy ceiling. */
interface BackendBench extends AutoCloseable {
    /** "cpu" or "cuda", as in the JSON records. */
    String name();

    /** The device and settings, for the report's header. */
    String description();

    /** Why this case cannot run here (not enough memory), or null when it can. */
    String whyNot(BenchCase benchCase);

    List<BenchRecord> run(BenchCase benchCase);

    @Override
    default void close() {
    }
}
