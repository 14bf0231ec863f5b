package io.github.batchnorm4j.internal.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The kernels' division by multiplication against Java's division, over awkward divisors and dividends. */
class FastDivisorTest {
    @Test
    void matchesDivisionForAwkwardDivisorsAndDividends() {
        Random random = new Random(22);
        List<Long> divisors = new ArrayList<>(List.of(1L, 2L, 3L, 4L, 5L, 7L, 9L, 49L, 64L, 65L, 196L, 784L, 1009L,
                3136L, 12544L, 65535L, 65537L, 1_000_003L, (1L << 31) - 1, 1L << 31, (1L << 32) + 1, 1L << 40,
                (1L << 62) + 1, Long.MAX_VALUE));
        for (int i = 0; i < 200; i++) {
            divisors.add(1 + (random.nextLong() >>> (1 + random.nextInt(62))));
        }
        long checked = 0;
        for (long d : divisors) {
            FastDivisor divisor = FastDivisor.of(d);
            List<Long> dividends = new ArrayList<>(List.of(0L, 1L, d - 1, d, d + 1, 2 * d - 1, 2 * d, Long.MAX_VALUE,
                    Long.MAX_VALUE - 1, Long.MAX_VALUE / d * d, (1L << 32) - 1, 1L << 32));
            for (int i = 0; i < 500; i++) {
                dividends.add(random.nextLong() >>> random.nextInt(63));
            }
            for (long n : dividends) {
                if (n < 0) {
                    continue; // d + 1 or 2d past Long.MAX_VALUE
                }
                assertEquals(n / d, divisor.divide(n), n + " / " + d + " (m = " + Long.toUnsignedString(
                        divisor.multiplier()) + ", l = " + divisor.log() + ")");
                checked++;
            }
        }
        assertEquals(true, checked > 100_000, "dividends checked: " + checked);
    }

    @Test
    void aDivisorBelowOneIsRefused() {
        assertEquals("divisor must be at least 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> FastDivisor.of(0)).getMessage());
    }
}
