package io.github.batchnorm4j.emulator;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The cross-block half of racecheck for one launch. Blocks of a grid run in no promised order,
 * so a block may read or overwrite a global word another block wrote only when a fence and an
 * atomic order the two: the writer wrote, fenced ({@code membar.gl}), then did an atomic on some
 * word Z; the reader did an atomic on Z after that (the last-block-to-finish protocol). Anything
 * else is a race, even where the emulator's own order happened to give the right answer. The
 * same holds the other way round: a block may overwrite a word another block read only when the
 * reader published its read the same way (only the latest reader of a word is remembered).
 *
 * <p>The reading side is modeled as the PTX memory model has it: an atomic is relaxed, so what it
 * observes orders the block's later reads only once the thread that did it has fenced after it
 * (the acquire fence of the last-block protocol); the block's other threads are taken to follow
 * that thread across the barrier the protocol has next. The writing side is kept per block: a
 * fence by one thread of a block is taken to cover the block's earlier writes (in the kernels
 * here the writes come before a barrier and the fence after it). A load through the non-coherent path ({@code ld.global.nc}) of a word
 * written during the launch is a race whoever wrote it: that path may serve stale data.
 */
final class GlobalRaces {
    /** What a block made visible: its accesses up to {@code published}, through an atomic on {@code word}. */
    private record Publication(long word, long order, int published) {
    }

    private final int launch;
    private final int[] accesses;
    private final int[] fenced;
    private final Map<Integer, List<Publication>> publications = new HashMap<>();
    /** Per block, per atomic word: the order of the latest atomic on it whose thread has fenced since. */
    private final Map<Integer, Map<Long, Long>> acquired = new HashMap<>();
    /** Per thread (block and thread), per atomic word: its atomics not yet followed by its own fence. */
    private final Map<Long, Map<Long, Long>> awaitingFence = new HashMap<>();
    /** Per block, per atomic word: the order of the block's latest atomic on it, fenced or not. */
    private final Map<Integer, Map<Long, Long>> latestOwn = new HashMap<>();
    /** Per atomic word: the order of the latest atomic on it. */
    private final Map<Long, Long> lastAtomic = new HashMap<>();
    private long order;

    GlobalRaces(int launch, int blocks) {
        this.launch = launch;
        this.accesses = new int[blocks];
        this.fenced = new int[blocks];
    }

    int launch() {
        return launch;
    }

    /** Numbers a read or write by {@code block}; the number goes into the word's reader or writer tag. */
    int nextAccess(int block) {
        return ++accesses[block];
    }

    /** A fence by one thread: it publishes its block's accesses so far and acquires what its own atomics observed. */
    void fence(int block, int thread) {
        fenced[block] = accesses[block];
        Map<Long, Long> observed = awaitingFence.remove(key(block, thread));
        if (observed != null) {
            acquired.computeIfAbsent(block, b -> new HashMap<>()).putAll(observed);
        }
    }

    /**
     * An atomic by one thread on {@code word}: it publishes its block's fenced accesses, and will
     * acquire what others published there once the thread fences.
     */
    void atomic(int block, int thread, long word) {
        long now = ++order;
        awaitingFence.computeIfAbsent(key(block, thread), k -> new HashMap<>()).put(word, now);
        latestOwn.computeIfAbsent(block, b -> new HashMap<>()).put(word, now);
        lastAtomic.put(word, now);
        publications.computeIfAbsent(block, b -> new ArrayList<>()).add(new Publication(word, now, fenced[block]));
    }

    /**
     * Whether a plain access by {@code block} to an atomic word comes after every atomic on it: true
     * when the block itself did the latest one (a counter reset by the last block to finish).
     */
    boolean afterEveryAtomic(int block, long word) {
        Map<Long, Long> seen = latestOwn.get(block); // the same word: coherence orders it, no fence needed
        Long mine = seen == null ? null : seen.get(word);
        return mine != null && mine.equals(lastAtomic.get(word));
    }

    /** Whether access number {@code sequence} of block {@code writer} is ordered before the current access of {@code reader}. */
    boolean ordered(int writer, int sequence, int reader) {
        List<Publication> published = publications.get(writer);
        Map<Long, Long> seen = acquired.get(reader);
        if (published == null || seen == null) {
            return false;
        }
        for (Publication p : published) {
            Long at = seen.get(p.word());
            if (p.published() >= sequence && at != null && at > p.order()) {
                return true;
            }
        }
        return false;
    }

    private static long key(int block, int thread) {
        return (long) block << 32 | (thread & 0xffffffffL);
    }
}
