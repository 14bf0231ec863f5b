package io.github.batchnorm4j.internal.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;

/** The .npy header dict: what numpy writes is read, and each way a header can be malformed is named. */
class NpyHeaderTest {
    private static final String GOOD = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";

    @Test
    void readsTheHeaderNumpyWritesInEveryVersion() throws IOException {
        for (int version = 1; version <= 3; version++) {
            String text = padded(GOOD, version);
            NpyHeader header = read(version, text);
            assertEquals("<f4", header.dtype);
            assertFalse(header.fortranOrder);
            assertArrayEquals(new long[] {2, 3}, header.shape);
            assertEquals((version == 1 ? 10 : 12) + text.length(), header.dataOffset, "version " + version);
            assertEquals(0, header.dataOffset % 64, "numpy aligns the data to 64 bytes");
        }
    }

    @Test
    void keysInAnyOrderDoubleQuotesAndWhitespaceBetweenTokens() throws IOException {
        NpyHeader reordered = read(1, "{'shape': (4,), 'fortran_order': True, 'descr': '<f8'}\n");
        assertEquals("<f8", reordered.dtype);
        assertTrue(reordered.fortranOrder);
        assertArrayEquals(new long[] {4}, reordered.shape);
        NpyHeader doubleQuoted = read(1, "{\"descr\": \"|u1\", \"fortran_order\": False, \"shape\": (7, 1), }   \n");
        assertEquals("|u1", doubleQuoted.dtype);
        assertArrayEquals(new long[] {7, 1}, doubleQuoted.shape);
        NpyHeader spread = read(1, "{ 'descr' :'<i8' ,\n 'fortran_order':False,\t'shape' : ( 2 ,\t3 , ) , }\n");
        assertEquals("<i8", spread.dtype);
        assertArrayEquals(new long[] {2, 3}, spread.shape);
    }

    @Test
    void emptyOneAndTwoDimensionalShapes() throws IOException {
        assertArrayEquals(new long[0], shapeOf("()"));
        assertArrayEquals(new long[0], shapeOf("( )"));
        assertArrayEquals(new long[] {5}, shapeOf("(5,)"));
        assertArrayEquals(new long[] {0, 3}, shapeOf("(0, 3)"));
        assertArrayEquals(new long[] {2, 3}, shapeOf("(2, 3,)"));
        for (long[] shape : List.of(new long[0], new long[] {5}, new long[] {2, 3})) {
            byte[] bytes = NpyHeader.encode("<f4", shape);
            NpyHeader back = NpyHeader.read(new DataInputStream(new ByteArrayInputStream(bytes)), "h.npy");
            assertArrayEquals(shape, back.shape, "encode then read " + NpyHeader.shapeString(shape));
        }
    }

    @Test
    void paddingIsSpacesThenAtMostOneFinalNewline() throws IOException {
        // numpy always ends with '\n', but reads a header without it too.
        assertArrayEquals(new long[] {2, 3}, read(1, GOOD).shape);
        assertArrayEquals(new long[] {2, 3}, read(1, GOOD + "    ").shape);
        rejected(1, GOOD + "\n  ", "junk after the header dict: '\\n  '");
        rejected(1, GOOD + "\n\n", "junk after the header dict");
    }

    @Test
    void python2LongSuffixOnlyInVersionsOneAndTwo() throws IOException {
        String old = "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }\n";
        assertArrayEquals(new long[] {2, 3}, read(1, old).shape);
        assertArrayEquals(new long[] {2, 3}, read(2, old).shape);
        rejected(3, old, "header expects ',' or ')' after a dimension of 'shape', found 'L, 3L), }");
    }

    @Test
    void eachMalformedHeaderIsNamed() {
        String[][] cases = {
            // the dict itself
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), " + " ".repeat(40) + "\n",
                "header dict is not closed"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)\n", "header dict is not closed"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3", "header dict is not closed"},
            {"['descr', 'fortran_order', 'shape']\n", "header is not a dict: it starts with '['"},
            {"", "header is empty"},
            {" " + GOOD + "\n", "header is not a dict: it starts with ' {'"},
            {GOOD + " x\n", "junk after the header dict: 'x'"},
            {GOOD + GOOD + "\n", "junk after the header dict: '{'"},
            // keys
            {"{'descr': '<f4', 'fortran_order': False, }\n", "header lacks key 'shape'"},
            {"{'fortran_order': False, 'shape': (2, 3)}\n", "header lacks key 'descr'"},
            {"{}\n", "header lacks key 'descr'"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'foo': 1, }\n",
                "header has unexpected key 'foo'"},
            {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}\n",
                "header repeats key 'descr'"},
            {"{descr: '<f4', 'fortran_order': False, 'shape': (2, 3)}\n",
                "header expects a quoted string as a key, found 'descr: '"},
            {"{'descr' '<f4', 'fortran_order': False, 'shape': (2, 3)}\n", "header expects ':' after key 'descr'"},
            {"{'descr': '<f4' 'fortran_order': False, 'shape': (2, 3)}\n",
                "header expects ',' or '}' after the value of 'descr'"},
            {"{,}\n", "header expects a quoted string as a key, found ',}"},
            // values
            {"{'descr': <f4, 'fortran_order': False, 'shape': (2, 3)}\n",
                "header expects a quoted string as the value of 'descr', found '<f4"},
            {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}\n",
                "header expects a quoted string as the value of 'descr', found '[('"},
            {"{'descr': '<f4\n", "header string '<f4' is not closed"},
            {"{'descr': '\\x3cf4', 'fortran_order': False, 'shape': (2, 3)}\n", "header string has an escape sequence"},
            {"{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 3)}\n",
                "header value of 'fortran_order' must be True or False, found '0"},
            {"{'descr': '<f4', 'fortran_order': 'False', 'shape': (2, 3)}\n",
                "header value of 'fortran_order' must be True or False"},
            {"{'descr': '<f4', 'fortran_order': Falsely, 'shape': (2, 3)}\n",
                "header value of 'fortran_order' must be True or False"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': 6}\n",
                "header value of 'shape' must be a tuple of ints such as (2, 3), found '6}"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (6)}\n",
                "header value of 'shape' (6) is an int, not a tuple; a 1-D shape is written (6,)"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3]}\n",
                "header value of 'shape' must be a tuple of ints"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': ('2', 3)}\n",
                "header value of 'shape' must hold ints, found ''2'"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (2.0, 3)}\n",
                "header expects ',' or ')' after a dimension of 'shape', found '.0"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,, 3)}\n", "header value of 'shape' must hold ints"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 3)}\n",
                "header value of 'shape' has a negative dimension"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (02, 3)}\n", "dimension 02 with a leading zero"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}\n",
                "dimension 99999999999999999999, which is too large"},
            // the dtype check that follows the parse
            {"{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3)}\n", "big-endian dtype '>f4' is not supported"},
        };
        for (String[] c : cases) {
            rejected(1, c[0], c[1]);
        }
    }

    @Test
    void everyNumpyWrittenGoldenFileStillReads() throws IOException, URISyntaxException {
        Path golden = Path.of(NpyHeaderTest.class.getResource("/golden").toURI());
        int headers = 0;
        try (Stream<Path> files = Files.walk(golden)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                String name = file.getFileName().toString();
                if (name.endsWith(".npy")) {
                    try (InputStream in = Files.newInputStream(file)) {
                        checkSize(NpyHeader.read(new DataInputStream(in), file.toString()), Files.size(file));
                    }
                    headers++;
                } else if (name.endsWith(".npz")) {
                    try (ZipFile zip = new ZipFile(file.toFile())) {
                        for (Enumeration<? extends ZipEntry> e = zip.entries(); e.hasMoreElements(); headers++) {
                            ZipEntry entry = e.nextElement();
                            try (InputStream in = zip.getInputStream(entry)) {
                                checkSize(NpyHeader.read(new DataInputStream(in), entry.getName()), entry.getSize());
                            }
                        }
                    }
                }
            }
        }
        assertTrue(headers > 100, "golden headers read: " + headers);
    }

    // ---- helpers ----

    private static void checkSize(NpyHeader header, long fileSize) throws IOException {
        assertEquals(fileSize, header.dataOffset + header.dataBytes(), header.dtype + " " + header.shapeString());
    }

    private static long[] shapeOf(String shape) throws IOException {
        return read(1, "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }\n").shape;
    }

    private static void rejected(int version, String text, String fragment) {
        IOException e = assertThrows(IOException.class, () -> read(version, text), fragment);
        assertTrue(e.getMessage().startsWith("h.npy: "), "starts with the file name: " + e.getMessage());
        assertTrue(e.getMessage().contains(fragment), "want '" + fragment + "' in: " + e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
    }

    /** The dict padded the way numpy pads it: spaces and a final newline, data at a multiple of 64. */
    private static String padded(String dict, int version) {
        int prefix = version == 1 ? 10 : 12;
        int padding = (64 - (prefix + dict.length() + 1) % 64) % 64;
        return dict + " ".repeat(padding) + "\n";
    }

    /** Magic, version, the header length (2 bytes in version 1, else 4), then {@code text}. */
    private static NpyHeader read(int version, String text) throws IOException {
        byte[] header = text.getBytes(StandardCharsets.UTF_8);
        ByteBuffer bytes = ByteBuffer.allocate(12 + header.length).order(ByteOrder.LITTLE_ENDIAN);
        bytes.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) version, 0});
        if (version == 1) {
            bytes.putShort((short) header.length);
        } else {
            bytes.putInt(header.length);
        }
        bytes.put(header);
        InputStream in = new ByteArrayInputStream(bytes.array(), 0, bytes.position());
        return NpyHeader.read(new DataInputStream(in), "h.npy");
    }
}
