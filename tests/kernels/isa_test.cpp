// The dispatch itself: cpuid's answer, and that each ISA really runs its own table (a silent
// fallback to a narrower path would pass every accuracy test while losing the speed).
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "kernel_test_util.h"
#include "lmkit/kernels/ops.h"

namespace lmkit::kernels::testing {
namespace {

// What the compiler's own CPU probe (which also checks the OS saves the wide registers) says.
bool cpu_has_avx512_set() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vbmi") &&
         __builtin_cpu_supports("avx512bf16");
}

bool cpu_has_avx2_set() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
         __builtin_cpu_supports("bmi2");
}

TEST(Isa, DetectionAgreesWithTheCompilersCpuProbe) {
  const Isa best = best_supported_isa();
  if (cpu_has_avx512_set())
    EXPECT_EQ(best, Isa::Avx512);
  else if (cpu_has_avx2_set())
    EXPECT_EQ(best, Isa::Avx2);
  else
    EXPECT_EQ(best, Isa::Scalar);
}

// Every entry of one table differs from the other's: nothing is borrowed by mistake (the
// activation preparation is shared on purpose, so it is left out).
void expect_all_kernels_differ(const detail::Ops& a, const detail::Ops& b) {
  EXPECT_NE(a.matmul_rows, b.matmul_rows);
  EXPECT_NE(a.rmsnorm, b.rmsnorm);
  EXPECT_NE(a.softmax, b.softmax);
  EXPECT_NE(a.silu_mul, b.silu_mul);
  EXPECT_NE(a.add, b.add);
  EXPECT_NE(a.rope, b.rope);
  EXPECT_NE(a.attention, b.attention);
}

TEST(Isa, EachIsaRunsItsOwnTable) {
  expect_all_kernels_differ(detail::avx512_ops(), detail::avx2_ops());
  expect_all_kernels_differ(detail::avx512_ops(), detail::scalar_ops());
  expect_all_kernels_differ(detail::avx2_ops(), detail::scalar_ops());
  {
    IsaGuard guard(Isa::Scalar);
    EXPECT_EQ(active_isa(), Isa::Scalar);
    EXPECT_EQ(&detail::active_ops(), &detail::scalar_ops());
  }
  if (best_supported_isa() >= Isa::Avx2) {
    IsaGuard guard(Isa::Avx2);
    EXPECT_EQ(active_isa(), Isa::Avx2);
    EXPECT_EQ(&detail::active_ops(), &detail::avx2_ops());
  }
  if (best_supported_isa() == Isa::Avx512) {
    IsaGuard guard(Isa::Avx512);
    EXPECT_EQ(active_isa(), Isa::Avx512);
    EXPECT_EQ(&detail::active_ops(), &detail::avx512_ops());
  }
}

TEST(Isa, ForcingAPathTheCpuLacksClampsToTheBest) {
  IsaGuard guard(Isa::Avx512);
  EXPECT_EQ(active_isa(), best_supported_isa());
}

// Run only as a child of LmkitIsaChoosesThePathAtStartUp: the ISA chosen at start-up must be
// the one the parent expects for the LMKIT_ISA it set.
TEST(Isa, DISABLED_ChildReportsStartupIsa) {
  const char* expect = std::getenv("LMKIT_TEST_EXPECT_ISA");
  ASSERT_NE(expect, nullptr);
  EXPECT_STREQ(isa_name(active_isa()), expect);
}

TEST(Isa, LmkitIsaChoosesThePathAtStartUp) {
  auto clamp = [](Isa want) { return want < best_supported_isa() ? want : best_supported_isa(); };
  struct Case {
    const char* env;
    Isa expect;
  };
  // An unknown value is ignored with a warning (a server must still start): best path.
  const Case cases[] = {{"scalar", Isa::Scalar},
                        {"avx2", clamp(Isa::Avx2)},
                        {"avx512", clamp(Isa::Avx512)},
                        {"sse9", best_supported_isa()}};
  // Resolved here: inside the shell std::system starts, /proc/self/exe would be the shell.
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  for (const Case& c : cases) {
    SCOPED_TRACE(c.env);
    const std::string cmd = std::string("LMKIT_ISA=") + c.env + " LMKIT_TEST_EXPECT_ISA=" +
                            isa_name(c.expect) + " '" + self +
                            "' --gtest_also_run_disabled_tests"
                            " --gtest_filter=Isa.DISABLED_ChildReportsStartupIsa > /dev/null 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0);
  }
}

}  // namespace
}  // namespace lmkit::kernels::testing
