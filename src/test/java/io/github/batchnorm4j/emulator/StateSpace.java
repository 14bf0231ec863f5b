package io.github.batchnorm4j.emulator;

/** Where a load, store or atomic goes; GENERIC resolves per address (shared, local window or global). */
enum StateSpace {
    PARAM, GLOBAL, SHARED, LOCAL, GENERIC
}
