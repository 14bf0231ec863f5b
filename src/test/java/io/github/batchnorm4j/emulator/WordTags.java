package io.github.batchnorm4j.emulator;

/**
 * Per 4-byte word of an allocation: the launch, block and access number of the latest access of
 * one kind (writes, or plain reads), for the cross-block racecheck ({@link GlobalRaces}).
 */
final class WordTags {
    final int[] launch;
    final int[] block;
    final int[] sequence;

    WordTags(int words) {
        launch = new int[words];
        block = new int[words];
        sequence = new int[words];
    }

    void tag(int word, int launchNumber, int blockIndex, int accessNumber) {
        launch[word] = launchNumber;
        block[word] = blockIndex;
        sequence[word] = accessNumber;
    }
}
