package io.github.batchnorm4j.internal.io;

import io.github.batchnorm4j.BatchNormConfig;
import io.github.batchnorm4j.StateFileException;
import io.github.batchnorm4j.VarianceEstimator;
import io.github.batchnorm4j.internal.LayerState;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * A layer's state as a NumPy {@code .npz} archive. Tensor members carry PyTorch's state_dict
 * names, so {@code numpy.load} reads the file and a {@code torch.nn.BatchNorm*d} loads it:
 *
 * <pre>
 *   weight, bias                float32 (C,)   gamma, beta (affine layers only)
 *   running_mean, running_var   float32 (C,)   (layers that track running statistics only)
 *   num_batches_tracked         int64   ()
 * </pre>
 *
 * The layer's settings ride along as scalar members that PyTorch does not know (drop them, or
 * load with {@code strict=False}):
 *
 * <pre>
 *   bn4j_format_version         int64   ()   1
 *   bn4j_channels               int64   ()   C
 *   bn4j_eps                    float64 ()
 *   bn4j_momentum               float64 ()   weight of the new batch; NaN in cumulative mode
 *   bn4j_cumulative_average     bool    ()
 *   bn4j_unbiased_running_var   bool    ()
 *   bn4j_bias_correction        bool    ()
 *   bn4j_affine                 bool    ()
 *   bn4j_track_running_stats    bool    ()
 *   bn4j_renorm_rmax            float64 ()   Batch Renormalization's current limits (renormalizing
 *   bn4j_renorm_dmax            float64 ()   layers only)
 * </pre>
 */
public final class StateFile {
    public static final String WEIGHT = "weight";
    public static final String BIAS = "bias";
    public static final String RUNNING_MEAN = "running_mean";
    public static final String RUNNING_VAR = "running_var";
    public static final String NUM_BATCHES_TRACKED = "num_batches_tracked";
    static final String FORMAT_VERSION = "bn4j_format_version";
    public static final String CHANNELS = "bn4j_channels";
    public static final String EPS = "bn4j_eps";
    public static final String MOMENTUM = "bn4j_momentum";
    public static final String CUMULATIVE = "bn4j_cumulative_average";
    public static final String UNBIASED = "bn4j_unbiased_running_var";
    public static final String BIAS_CORRECTION = "bn4j_bias_correction";
    public static final String AFFINE = "bn4j_affine";
    public static final String TRACK = "bn4j_track_running_stats";
    public static final String RENORM_RMAX = "bn4j_renorm_rmax";
    public static final String RENORM_DMAX = "bn4j_renorm_dmax";

    private final Path path;
    private final Map<String, NpyArray> members;

    private StateFile(Path path, Map<String, NpyArray> members) {
        this.path = path;
        this.members = members;
    }

    /** The members that describe {@code state}, in the order they are written. */
    public static Map<String, NpyArray> membersOf(LayerState state) {
        BatchNormConfig config = state.config;
        Map<String, NpyArray> members = new LinkedHashMap<>();
        if (config.affine()) {
            members.put(WEIGHT, NpyArray.ofFloats(state.gamma));
            members.put(BIAS, NpyArray.ofFloats(state.beta));
        }
        if (config.trackRunningStats()) {
            members.put(RUNNING_MEAN, NpyArray.ofFloats(state.runningMean));
            members.put(RUNNING_VAR, NpyArray.ofFloats(state.runningVar));
            members.put(NUM_BATCHES_TRACKED, NpyArray.ofLong(state.numBatchesTracked));
        }
        members.put(FORMAT_VERSION, NpyArray.ofLong(1));
        members.put(CHANNELS, NpyArray.ofLong(config.channels()));
        members.put(EPS, NpyArray.ofDouble(config.eps()));
        members.put(MOMENTUM, NpyArray.ofDouble(config.momentum()));
        members.put(CUMULATIVE, NpyArray.ofBoolean(config.cumulativeAverage()));
        members.put(UNBIASED, NpyArray.ofBoolean(config.runningVariance() == VarianceEstimator.UNBIASED));
        members.put(BIAS_CORRECTION, NpyArray.ofBoolean(config.biasCorrection()));
        members.put(AFFINE, NpyArray.ofBoolean(config.affine()));
        members.put(TRACK, NpyArray.ofBoolean(config.trackRunningStats()));
        if (config.batchRenormalization()) {
            members.put(RENORM_RMAX, NpyArray.ofDouble(state.renormRmax));
            members.put(RENORM_DMAX, NpyArray.ofDouble(state.renormDmax));
        }
        return members;
    }

    /**
     * Writes {@code members} to {@code path} atomically: a temporary file in the same folder,
     * forced to disk, then renamed over the target. A crash leaves the old file or the new one.
     */
    public static void write(Path path, Map<String, NpyArray> members) throws IOException {
        Path target = path.toAbsolutePath();
        Path temp = TemporaryFiles.createBeside(target);
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                OutputStream out = Channels.newOutputStream(channel);
                ZipOutputStream zip = new ZipOutputStream(out);
                for (Map.Entry<String, NpyArray> member : members.entrySet()) {
                    zip.putNextEntry(new ZipEntry(member.getKey() + ".npy"));
                    zip.write(member.getValue().toBytes());
                    zip.closeEntry();
                }
                zip.finish();
                zip.flush();
                channel.force(true);
            }
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /** Reads every member of an {@code .npz}; a truncated or corrupt file is a {@link StateFileException}. */
    public static StateFile read(Path path) throws IOException {
        long size = Files.size(path);
        Map<String, NpyArray> members = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(path.toFile())) {
            Enumeration<? extends ZipEntry> entries = zip.entries();
            while (entries.hasMoreElements()) {
                ZipEntry entry = entries.nextElement();
                String name = entry.getName();
                if (!name.endsWith(".npy")) {
                    continue;
                }
                try (InputStream in = zip.getInputStream(entry)) {
                    String member = name.substring(0, name.length() - 4);
                    long limit = entry.getSize() >= 0 ? entry.getSize() : size * 1024;
                    members.put(member, NpyArray.read(in, member, limit));
                }
            }
        } catch (ZipException e) {
            throw new StateFileException(path, "not a readable .npz archive (truncated or corrupt): " + e.getMessage());
        } catch (StateFileException e) {
            throw e;
        } catch (IOException e) {
            if (Files.exists(path)) {
                throw new StateFileException(path, e.getMessage());
            }
            throw e;
        }
        return new StateFile(path, members);
    }

    /** Every member as stored, in the file's order: a copy, to edit and {@link #write} elsewhere. */
    public Map<String, NpyArray> members() {
        return new LinkedHashMap<>(members);
    }

    /** A member as stored, or null. */
    public NpyArray member(String name) {
        return members.get(name);
    }

    public boolean has(String member) {
        return members.containsKey(member);
    }

    /** A float32 vector of length {@code channels}, finite, and non-negative when {@code nonNegative}. */
    public float[] channelVector(String member, int channels, boolean nonNegative) throws StateFileException {
        NpyArray array = require(member, NpyArray.FLOAT32, "float32 (" + channels + ",)");
        if (array.shape.length != 1 || array.shape[0] != channels) {
            throw new StateFileException(path, "member '" + member + "' has shape " + array.shapeString()
                    + " but the layer has C=" + channels + ", so it needs (" + channels + ",)");
        }
        float[] values = array.toFloats();
        for (int c = 0; c < channels; c++) {
            if (!Float.isFinite(values[c]) || (nonNegative && values[c] < 0)) {
                throw new StateFileException(path, "member '" + member + "' holds " + values[c] + " at channel "
                        + c + (nonNegative ? "; it must be finite and non-negative" : "; it must be finite"));
            }
        }
        return values;
    }

    public long longScalar(String member) throws StateFileException {
        NpyArray array = require(member, NpyArray.INT64, "int64 scalar");
        requireScalar(member, array, "int64");
        return array.data.getLong(0);
    }

    /** A non-negative int64 scalar, such as a count. */
    public long countScalar(String member) throws StateFileException {
        long value = longScalar(member);
        if (value < 0) {
            throw new StateFileException(path, "member '" + member + "' holds " + value + "; it must be >= 0");
        }
        return value;
    }

    public double doubleScalar(String member) throws StateFileException {
        NpyArray array = require(member, NpyArray.FLOAT64, "float64 scalar");
        requireScalar(member, array, "float64");
        return array.data.getDouble(0);
    }

    public boolean booleanScalar(String member) throws StateFileException {
        NpyArray array = require(member, NpyArray.BOOL, "bool scalar");
        requireScalar(member, array, "bool");
        return array.data.get(0) != 0;
    }

    private NpyArray require(String member, String dtype, String expected) throws StateFileException {
        NpyArray array = members.get(member);
        if (array == null) {
            throw new StateFileException(path, "missing member '" + member + "' (" + expected + "); it has "
                    + members.keySet());
        }
        if (!array.dtype.equals(dtype)) {
            throw new StateFileException(path, "member '" + member + "' has dtype '" + array.dtype
                    + "' but must be " + expected + " ('" + dtype + "')");
        }
        return array;
    }

    private void requireScalar(String member, NpyArray array, String type) throws StateFileException {
        if (array.elementCount() != 1 || array.shape.length > 1) {
            throw new StateFileException(path, "member '" + member + "' has shape " + array.shapeString()
                    + " but must be a " + type + " scalar ()");
        }
    }

    /**
     * Copies the parameters and running statistics this file holds into {@code state}, as far as
     * the layer's settings have them; every member is checked (name, dtype, shape against the
     * layer's C, finite, variance non-negative) before anything changes.
     */
    public void applyTo(LayerState state) throws StateFileException {
        BatchNormConfig config = state.config;
        int channels = config.channels();
        float[] gamma = null, beta = null, mean = null, variance = null;
        long count = 0;
        if (config.affine()) {
            gamma = channelVector(WEIGHT, channels, false);
            beta = channelVector(BIAS, channels, false);
        }
        if (config.trackRunningStats()) {
            mean = channelVector(RUNNING_MEAN, channels, false);
            variance = channelVector(RUNNING_VAR, channels, true);
            count = countScalar(NUM_BATCHES_TRACKED);
        }
        if (gamma != null) {
            System.arraycopy(gamma, 0, state.gamma, 0, channels);
            System.arraycopy(beta, 0, state.beta, 0, channels);
        }
        if (mean != null) {
            System.arraycopy(mean, 0, state.runningMean, 0, channels);
            System.arraycopy(variance, 0, state.runningVar, 0, channels);
            state.numBatchesTracked = count;
        }
        state.parametersChanged();
    }

    /**
     * The settings this file records (written by {@code BatchNorm.save}); {@code file} names the
     * file in messages. The layer's builder checks them.
     */
    public RecordedSettings recordedSettings(Path file) throws StateFileException {
        if (!has(CHANNELS)) {
            throw new StateFileException(file, "has no batchnorm4j settings (member '" + CHANNELS
                    + "'); for a plain PyTorch state_dict build the layer and call load");
        }
        long channels = countScalar(CHANNELS);
        if (channels == 0 || channels > Integer.MAX_VALUE) {
            throw new StateFileException(file, "member '" + CHANNELS + "' holds " + channels
                    + "; it must be a positive channel count");
        }
        boolean renorm = has(RENORM_RMAX) || has(RENORM_DMAX);
        return new RecordedSettings((int) channels, doubleScalar(EPS), doubleScalar(MOMENTUM),
                booleanScalar(CUMULATIVE), booleanScalar(UNBIASED), booleanScalar(BIAS_CORRECTION),
                booleanScalar(AFFINE), booleanScalar(TRACK), renorm,
                renorm ? doubleScalar(RENORM_RMAX) : Double.NaN, renorm ? doubleScalar(RENORM_DMAX) : Double.NaN);
    }

    /** A layer's settings as a state file records them, before any check. */
    public record RecordedSettings(int channels, double eps, double momentum, boolean cumulativeAverage,
            boolean unbiasedRunningVariance, boolean biasCorrection, boolean affine, boolean trackRunningStats,
            boolean batchRenormalization, double renormRmax, double renormDmax) {
    }
}
