package io.github.batchnorm4j;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.batchnorm4j.internal.cuda.CudaAvailability;
import io.github.batchnorm4j.internal.cuda.CudaBackend;
import io.github.batchnorm4j.sync.LocalGroup;
import io.github.batchnorm4j.sync.hazelcast.HazelcastCollective;
import io.github.batchnorm4j.sync.hazelcast.Loopback;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Synchronized batch norm with every worker's layer on the CUDA backend: the checks of
 * {@link SyncBatchNormTest} against one CPU layer on the concatenation. Skipped, with the probe's
 * reason, where no CUDA device works.
 */
@Tag(TestData.GPU)
class CudaSyncBatchNormTest {
    @ParameterizedTest
    @ValueSource(ints = {2, 3})
    void matchesOneLayerOnTheConcatenation(int world) throws Exception {
        CudaAvailability availability = CudaAvailability.get();
        assumeTrue(availability.available, "GPU test skipped: " + availability.reason);
        for (Shape example : new Shape[] {Shape.nc(1, 7), Shape.nchw(1, 3, 5, 4), Shape.nhwc(1, 2, 3, 65)}) {
            for (BatchNormBuilder builder : SyncBatchNormTest.builders(example.channels())) {
                LocalGroup group = new LocalGroup(world);
                SyncBatchNormTest.run(world, example, builder, group::member,
                        () -> new CudaBackend(availability.context));
            }
        }
    }

    /** Over Hazelcast members too (tagged hazelcast as well: the GPU bundle has no Hazelcast). */
    @Tag("hazelcast")
    @ParameterizedTest
    @ValueSource(ints = {2})
    void overHazelcastMembers(int world) throws Exception {
        CudaAvailability availability = CudaAvailability.get();
        assumeTrue(availability.available, "GPU test skipped: " + availability.reason);
        Shape example = Shape.nhwc(1, 2, 3, 65);
        List<String> members = Loopback.members(world);
        SyncBatchNormTest.run(world, example, BatchNorm.builder(65).batchRenormalization(1.5, 0.5),
                rank -> HazelcastCollective.join(members, rank, Duration.ofSeconds(30)),
                () -> new CudaBackend(availability.context));
    }
}
