package io.github.batchnorm4j.emulator;

import java.util.List;

/**
 * The graphs stream capture made (CUgraph) and their instantiations (CUgraphExec). An
 * instantiation holds its own list of nodes, so destroying the graph leaves it runnable, as CUDA's
 * does; the lists are immutable, so cuGraphLaunch walks them by index without allocating.
 */
final class Graphs {
    private final HandleTable<List<GraphNode>> graphs = new HandleTable<>();
    private final HandleTable<List<GraphNode>> executables = new HandleTable<>();

    /** Registers the nodes a capture recorded as graph {@code handle}; returns the handle. */
    long addGraph(long handle, List<GraphNode> nodes) {
        graphs.put(handle, List.copyOf(nodes));
        return handle;
    }

    boolean destroyGraph(long handle) {
        return graphs.remove(handle) != null;
    }

    /** Instantiates graph {@code graph} as {@code handle}; false when the graph is unknown. */
    boolean instantiate(long handle, long graph) {
        List<GraphNode> nodes = graphs.get(graph);
        if (nodes == null) {
            return false;
        }
        executables.put(handle, nodes);
        return true;
    }

    /** The nodes of an instantiated graph, or null when the handle is unknown. */
    List<GraphNode> executable(long handle) {
        return executables.get(handle);
    }

    boolean destroyExecutable(long handle) {
        return executables.remove(handle) != null;
    }
}
