package io.github.batchnorm4j;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The layers of the library's main classes, checked on their bytecode. The public package holds
 * two layers: the facades, which use the internal packages ({@code BatchNorm}, its builder,
 * {@code DeviceBatchNorm}, {@code SyncBatchNorm}, ...), and the API's value types, which use
 * nothing of the library ({@code Shape}, {@code BatchNormConfig}, the exceptions, ...). Facades
 * sit on the internal code, which sits on the value types: no internal class names a facade, no
 * value type names a facade or internal code, and no two packages below the public one depend on
 * each other both ways.
 */
class ArchitectureTest {
    private static final String ROOT = "io.github.batchnorm4j";
    private static JavaClasses classes;

    @BeforeAll
    static void importMainClasses() {
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS).importPackages(ROOT);
    }

    /** Classes of the public package that use internal code: the facades. */
    private static final DescribedPredicate<JavaClass> FACADE = DescribedPredicate.describe(
            "are facades of the public package (classes there that use internal code)",
            ArchitectureTest::isFacade);

    private static boolean isFacade(JavaClass type) {
        JavaClass outer = type;
        while (outer.getEnclosingClass().isPresent()) {
            outer = outer.getEnclosingClass().get();
        }
        return outer.getPackageName().equals(ROOT) && outer.getDirectDependenciesFromSelf().stream()
                .anyMatch(d -> d.getTargetClass().getPackageName().startsWith(ROOT + ".internal"));
    }

    @Test
    void theFacadesAreTheClassesThatUseInternalCode() {
        Set<String> facades = new TreeSet<>();
        for (JavaClass type : classes) {
            if (type.getPackageName().equals(ROOT) && !type.isNestedClass() && isFacade(type)) {
                facades.add(type.getSimpleName());
            }
        }
        assertEquals(Set.of("BatchNorm", "BatchNormBuilder", "BatchNormRuntime", "DeviceBatchNorm",
                "PopulationStatistics", "SyncBatchNorm"), facades);
    }

    @Test
    void noInternalClassNamesAFacade() {
        noClasses().that().resideInAPackage(ROOT + ".internal..").should().dependOnClassesThat(FACADE)
                .check(classes);
    }

    @Test
    void valueTypesOfTheApiNameNeitherFacadesNorInternalCode() {
        noClasses().that().resideInAPackage(ROOT).and(DescribedPredicate.not(FACADE))
                .should().dependOnClassesThat(FACADE.or(JavaClass.Predicates.resideInAPackage(ROOT + ".internal..")))
                .check(classes);
    }

    @Test
    void noCycleBetweenPackages() {
        slices().matching(ROOT + ".(**)").should().beFreeOfCycles().check(classes);
    }

    @Test
    void everyPackageBelowThePublicOneIsASlice() {
        // A slice pattern that missed a package would pass the cycle rule without looking at it.
        Set<String> packages = new TreeSet<>();
        for (JavaClass type : classes) {
            packages.add(type.getPackageName());
        }
        assertTrue(packages.containsAll(Set.of(ROOT + ".internal", ROOT + ".internal.cpu", ROOT + ".internal.cuda",
                ROOT + ".internal.io", ROOT + ".internal.backends", ROOT + ".cli")), packages.toString());
    }
}
