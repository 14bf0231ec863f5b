package io.github.batchnorm4j.emulator;

/**
 * PTX rounding modifiers: to a float (.rn .rz .rm .rp) and to an integral value (.rni .rzi .rmi
 * .rpi). NONE where an instruction has none (it then rounds to nearest, or is exact).
 */
enum Rounding {
    NONE, RN, RZ, RM, RP, RNI, RZI, RMI, RPI;

    static Rounding parse(String modifier) {
        switch (modifier) {
            case "rn": return RN;
            case "rz": return RZ;
            case "rm": return RM;
            case "rp": return RP;
            case "rni": return RNI;
            case "rzi": return RZI;
            case "rmi": return RMI;
            case "rpi": return RPI;
            default: return null;
        }
    }

    boolean isIntegral() {
        return this == RNI || this == RZI || this == RMI || this == RPI;
    }

    /** The float rounding (.rn for NONE), or the float counterpart of an integral one. */
    Rounding toFloatMode() {
        switch (this) {
            case RZ: case RZI: return RZ;
            case RM: case RMI: return RM;
            case RP: case RPI: return RP;
            default: return RN;
        }
    }
}
