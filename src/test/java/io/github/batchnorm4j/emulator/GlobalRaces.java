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
 * <p>Bookkeeping is per block, not per thread: a fence by one thread of a block is taken to
 * cover the block's earlier writes (in the kernels here the writes come before a barrier and
 * the fence after it). A load through the non-coherent path ({@code ld.global.nc}) of a word
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
    /** Per block, per atomic word: the order of the block's latest atomic on it. */
    private final Map<Integer, Map<Long, Long>> acquired = new HashMap<>();
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

    void fence(int block) {
        fenced[block] = accesses[block];
    }

    /** An atomic by {@code block} on {@code word}: it acquires what others published there and publishes its fenced writes. */
    void atomic(int block, long word) {
        long now = ++order;
        acquired.computeIfAbsent(block, b -> new HashMap<>()).put(word, now);
        lastAtomic.put(word, now);
        publications.computeIfAbsent(block, b -> new ArrayList<>()).add(new Publication(word, now, fenced[block]));
    }

    /**
     * Whether a plain access by {@code block} to an atomic word comes after every atomic on it: true
     * when the block itself did the latest one (a counter reset by the last block to finish).
     */
    boolean afterEveryAtomic(int block, long word) {
        Map<Long, Long> seen = acquired.get(block);
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
}
