package io.github.batchnorm4j.sync.hazelcast;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.topic.ITopic;
import com.hazelcast.topic.Message;
import com.hazelcast.topic.ReliableMessageListener;
import io.github.batchnorm4j.sync.Collective;
import io.github.batchnorm4j.sync.CollectiveException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A {@link Collective} on embedded Hazelcast members: rank R runs a member listening at the R-th
 * of the given {@code host:port} addresses, joined to the others over TCP (multicast and
 * auto-detection off). Each step, every rank publishes its values, numbered by the step, on one
 * reliable topic and waits until it holds every rank's values of that step; values of a step it
 * already finished are dropped, those of a later step kept for it. The topic is a ringbuffer that
 * every rank reads from its first message, so a message published before a slower rank had
 * registered its listener still reaches it (a plain topic drops those: listener registrations
 * reach the other members asynchronously). A member that leaves (its process
 * ended, or it was closed) fails the current and every later step of the others, naming its rank;
 * so does one that does not answer within the timeout.
 */
public final class HazelcastCollective implements Collective {
    private static final String RANK = "bn4j.rank";
    /** Held, so that the level set on it is not lost with a collected logger. */
    private static final Logger HAZELCAST_LOG = Logger.getLogger("com.hazelcast");
    private static final String TOPIC = "bn4j-sync";
    /** step, rank, length: the head of a message; the values follow as doubles. */
    private static final int HEAD = Long.BYTES + 2 * Integer.BYTES;
    /** The length of a rank's last message: it is leaving. */
    private static final int GOODBYE = -1;

    private final HazelcastInstance hazelcast;
    private final ITopic<byte[]> topic;
    private final int rank;
    private final int world;
    private final long timeoutNanos;

    private final Object lock = new Object();
    /** Values that arrived, by step and rank; a step is removed once this rank has it whole. */
    private final Map<Long, double[][]> arrived = new HashMap<>();
    private final TreeSet<Integer> gone = new TreeSet<>();
    private long step;
    private long completed;
    private String broken;

    private HazelcastCollective(HazelcastInstance hazelcast, int rank, int world, Duration timeout) {
        this.hazelcast = hazelcast;
        this.rank = rank;
        this.world = world;
        this.timeoutNanos = timeout.toNanos();
        this.topic = hazelcast.getReliableTopic(TOPIC);
        topic.addMessageListener(new FromTheStart());
        hazelcast.getCluster().addMembershipListener(new MembershipListener() {
            @Override
            public void memberAdded(MembershipEvent event) {
            }

            @Override
            public void memberRemoved(MembershipEvent event) {
                Integer left = rankOf(event.getMember());
                synchronized (lock) {
                    if (left != null) {
                        gone.add(left);
                    }
                    lock.notifyAll();
                }
            }
        });
    }

    /**
     * Starts this rank's member at {@code members.get(rank)} and waits, up to {@code timeout},
     * until every rank has joined.
     *
     * @param members {@code host:port} of every rank, in rank order; the same list on every rank
     * @throws CollectiveException naming the ranks that did not join in time
     */
    public static HazelcastCollective join(List<String> members, int rank, Duration timeout) {
        if (members.isEmpty() || rank < 0 || rank >= members.size()) {
            throw new IllegalArgumentException("rank " + rank + " is not one of the " + members.size()
                    + " members " + members);
        }
        if (HAZELCAST_LOG.getLevel() == null) {
            HAZELCAST_LOG.setLevel(Level.WARNING); // its INFO lines are many; an application's own level stands
        }
        String[] own = hostAndPort(members.get(rank));
        Config config = new Config();
        config.setClusterName("bn4j-sync-" + Integer.toHexString(String.join(",", members).hashCode()));
        config.setProperty("hazelcast.logging.type", "jdk");
        config.setProperty("hazelcast.phone.home.enabled", "false");
        config.setProperty("hazelcast.shutdownhook.enabled", "false");
        config.setProperty("hazelcast.socket.bind.any", "false");
        config.setProperty("hazelcast.heartbeat.interval.seconds", "1");
        config.setProperty("hazelcast.max.no.heartbeat.seconds", "5");
        config.setProperty("hazelcast.partition.count", "7");
        config.getMemberAttributeConfig().setAttribute(RANK, Integer.toString(rank));
        NetworkConfig network = config.getNetworkConfig();
        network.setPort(Integer.parseInt(own[1])).setPortAutoIncrement(false);
        network.getInterfaces().setEnabled(true).addInterface(address(own[0]));
        JoinConfig join = network.getJoin();
        join.getMulticastConfig().setEnabled(false);
        join.getAutoDetectionConfig().setEnabled(false);
        List<String> addresses = new ArrayList<>();
        for (String member : members) {
            String[] hp = hostAndPort(member);
            addresses.add(address(hp[0]) + ":" + hp[1]);
        }
        join.getTcpIpConfig().setEnabled(true).setMembers(addresses);
        HazelcastInstance instance = Hazelcast.newHazelcastInstance(config);
        HazelcastCollective collective = new HazelcastCollective(instance, rank, members.size(), timeout);
        collective.awaitEveryRank();
        return collective;
    }

    private void awaitEveryRank() {
        long deadline = System.nanoTime() + timeoutNanos;
        while (true) {
            TreeSet<Integer> missing = new TreeSet<>();
            for (int r = 0; r < world; r++) {
                missing.add(r);
            }
            for (Member member : hazelcast.getCluster().getMembers()) {
                missing.remove(rankOf(member));
            }
            if (missing.isEmpty()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                hazelcast.getLifecycleService().terminate();
                throw new CollectiveException("rank " + rank + ": rank(s) " + missing + " did not join within "
                        + Duration.ofNanos(timeoutNanos).toMillis() + " ms", toArray(missing));
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                hazelcast.getLifecycleService().terminate();
                throw new CollectiveException("rank " + rank + ": interrupted while waiting for the others to join",
                        toArray(missing));
            }
        }
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int worldSize() {
        return world;
    }

    /** The member this rank runs (for its cluster view; closing it is closing this collective). */
    public HazelcastInstance instance() {
        return hazelcast;
    }

    @Override
    public double[][] allGather(double[] values) {
        long mine;
        synchronized (lock) {
            if (broken != null) {
                throw new CollectiveException(broken, toArray(gone));
            }
            mine = ++step;
        }
        ByteBuffer message = ByteBuffer.allocate(HEAD + values.length * Double.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        message.putLong(mine).putInt(rank).putInt(values.length);
        for (double v : values) {
            message.putDouble(v);
        }
        try {
            topic.publish(message.array());
        } catch (RuntimeException e) {
            fail("step " + mine + ": rank " + rank + " could not publish (" + e.getMessage() + ")", new int[0]);
        }
        long deadline = System.nanoTime() + timeoutNanos;
        synchronized (lock) {
            while (true) {
                double[][] slot = arrived.get(mine);
                if (slot != null && complete(slot)) {
                    arrived.remove(mine);
                    completed = mine;
                    return slot;
                }
                TreeSet<Integer> lost = new TreeSet<>();
                for (int r : gone) {
                    if (slot == null || slot[r] == null) {
                        lost.add(r); // a rank that left after sending this step's values still counts
                    }
                }
                if (!lost.isEmpty()) {
                    fail("step " + mine + ": rank(s) " + lost + " left the group", toArray(lost));
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    TreeSet<Integer> missing = new TreeSet<>();
                    for (int r = 0; r < world; r++) {
                        if (slot == null || slot[r] == null) {
                            missing.add(r);
                        }
                    }
                    fail("step " + mine + ": no answer from rank(s) " + missing + " within "
                            + Duration.ofNanos(timeoutNanos).toMillis() + " ms", toArray(missing));
                }
                try {
                    lock.wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    fail("step " + mine + ": rank " + rank + " was interrupted", new int[0]);
                }
            }
        }
    }

    /** Marks the collective broken and throws; every later call throws the same. */
    private void fail(String why, int[] missing) {
        synchronized (lock) {
            if (broken == null) {
                broken = why + "; the group is broken, later steps fail too";
            }
        }
        throw new CollectiveException(why, missing);
    }

    /** Reads the topic from its first message, and stops (the steps then time out) on any loss. */
    private final class FromTheStart implements ReliableMessageListener<byte[]> {
        @Override
        public void onMessage(Message<byte[]> message) {
            arrive(message.getMessageObject());
        }

        @Override
        public long retrieveInitialSequence() {
            return 0;
        }

        @Override
        public void storeSequence(long sequence) {
        }

        @Override
        public boolean isLossTolerant() {
            return false;
        }

        @Override
        public boolean isTerminal(Throwable failure) {
            return true;
        }
    }

    private void arrive(byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long of = in.getLong();
        int from = in.getInt();
        int length = in.getInt();
        if (length == GOODBYE) {
            synchronized (lock) {
                gone.add(from);
                lock.notifyAll();
            }
            return;
        }
        double[] values = new double[length];
        for (int i = 0; i < values.length; i++) {
            values[i] = in.getDouble();
        }
        synchronized (lock) {
            if (of <= completed || from < 0 || from >= world) {
                return; // a late message of a step this rank has finished
            }
            arrived.computeIfAbsent(of, s -> new double[world][])[from] = values;
            lock.notifyAll();
        }
    }

    private static boolean complete(double[][] slot) {
        for (double[] values : slot) {
            if (values == null) {
                return false;
            }
        }
        return true;
    }

    private static Integer rankOf(Member member) {
        String value = member.getAttribute(RANK);
        return value == null ? null : Integer.valueOf(value);
    }

    private static int[] toArray(java.util.Collection<Integer> ranks) {
        return ranks.stream().mapToInt(Integer::intValue).toArray();
    }

    private static String[] hostAndPort(String member) {
        int colon = member.lastIndexOf(':');
        if (colon <= 0 || colon == member.length() - 1) {
            throw new IllegalArgumentException("member '" + member + "' is not host:port");
        }
        String port = member.substring(colon + 1);
        try {
            int p = Integer.parseInt(port);
            if (p < 1 || p > 65535) {
                throw new NumberFormatException();
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("member '" + member + "' has no valid port (1-65535)");
        }
        return new String[] {member.substring(0, colon), port};
    }

    private static String address(String host) {
        try {
            return InetAddress.getByName(host).getHostAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("member host '" + host + "' does not resolve: " + e.getMessage());
        }
    }

    /**
     * Leaves the group: says goodbye, waits (up to the timeout) until every other rank has said
     * goodbye too or is gone, then shuts the member down. A rank says goodbye only after its last
     * step, so when all have, every step's values have reached every rank. A rank that closes
     * early fails the others' current or next step, naming it.
     */
    @Override
    public void close() {
        synchronized (lock) {
            if (broken == null) {
                broken = "rank " + rank + " closed its collective";
            }
        }
        try {
            ByteBuffer message = ByteBuffer.allocate(HEAD).order(ByteOrder.LITTLE_ENDIAN);
            topic.publish(message.putLong(Long.MAX_VALUE).putInt(rank).putInt(GOODBYE).array());
            long deadline = System.nanoTime() + timeoutNanos;
            synchronized (lock) {
                while (gone.size() < world && System.nanoTime() < deadline) {
                    lock.wait(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            // the member is already down (terminated, or the cluster is gone): nothing to wait for
        } finally {
            hazelcast.shutdown();
        }
    }
}
