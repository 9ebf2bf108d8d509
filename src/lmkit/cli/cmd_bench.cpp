// `lmkit bench MODEL | --random SHAPE`: prefill (pp) and decode (tg) tokens per second, in the
// layout llama-bench prints, or as JSON. --random builds a model of a real shape with random
// weights in memory, so anyone can measure without a download.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "lmkit/base/error.h"
#include "lmkit/base/thread_pool.h"
#include "lmkit/cli/command.h"
#include "lmkit/cli/generation_options.h"
#include "lmkit/engine/loaded_model.h"
#include "lmkit/engine/speed_test.h"
#include "lmkit/kernels/kernels.h"
#include "lmkit/models/model.h"

namespace lmkit::cli {
namespace {

struct BenchArgs {
  std::string model;
  std::string random_shape;
  std::string type = "q4_0";
  int64_t n_prompt = 512;
  int64_t n_gen = 128;
  int64_t batch = 512;
  int repetitions = 1;
  int threads = 0;
  bool json = false;
};

std::string display_name(const std::string& path) {
  std::filesystem::path p(path);
  if (p.filename().empty()) p = p.parent_path();
  return p.filename().string();
}

int bench_command(const BenchArgs& a) {
  if (a.model.empty() == a.random_shape.empty())
    throw_error("bench: give either a MODEL or --random SHAPE (one of them)");

  engine::LoadOptions lo;
  lo.random_shape = a.random_shape;
  lo.random_weight_type = a.type;
  const engine::LoadedModel loaded = engine::load_model(a.model, lo);
  CausalLM* model = &loaded.model();
  const std::string name = a.random_shape.empty() ? display_name(loaded.path()) : a.random_shape + " (random)";
  const std::string& type = loaded.weight_type();

  ThreadPool pool(a.threads);
  engine::SpeedTestOptions o;
  o.n_prompt = a.n_prompt;
  o.n_gen = a.n_gen;
  o.batch = a.batch;
  o.repetitions = a.repetitions;
  engine::SpeedTestResult r = engine::run_speed_test(*model, pool, o);

  const char* isa = kernels::isa_name(kernels::active_isa());
  if (a.json) {
    nlohmann::ordered_json out = {{"model", name},
                          {"type", type},
                          {"threads", pool.size()},
                          {"isa", isa},
                          {"n_prompt", a.n_prompt},
                          {"n_gen", a.n_gen},
                          {"batch", a.batch},
                          {"repetitions", a.repetitions},
                          {"pp_tokens_per_s", r.prefill.mean_tokens_per_s},
                          {"tg_tokens_per_s", r.decode.mean_tokens_per_s}};
    std::printf("%s\n", out.dump(1).c_str());
    return 0;
  }
  std::printf("| %-28s | %6s | %7s | %6s | %8s | %20s |\n", "model", "type", "threads", "isa",
              "test", "t/s");
  std::printf("| %s | %s | %s | %s | %s | %s |\n", std::string(28, '-').c_str(),
              std::string(6, '-').c_str(), std::string(7, '-').c_str(),
              std::string(6, '-').c_str(), std::string(8, '-').c_str(),
              std::string(20, '-').c_str());
  auto row = [&](const std::string& test, const engine::SpeedStat& s) {
    const std::string rate = fmt::format("{:.2f} ± {:.2f}", s.mean_tokens_per_s, s.stddev_tokens_per_s);
    std::printf("| %-28s | %6s | %7d | %6s | %8s | %20s |\n", name.c_str(), type.c_str(),
                pool.size(), isa, test.c_str(), rate.c_str());
  };
  if (a.n_prompt > 0) row("pp" + std::to_string(a.n_prompt), r.prefill);
  if (a.n_gen > 0) row("tg" + std::to_string(a.n_gen), r.decode);
  return 0;
}

Runner setup_bench(CLI::App& app) {
  auto a = std::make_shared<BenchArgs>();
  app.add_option("model", a->model, "A model directory, .gguf file or ORG/NAME");
  std::string shapes;
  for (const auto& s : random_shape_names()) shapes += (shapes.empty() ? "" : ", ") + s;
  app.add_option("--random", a->random_shape,
                 "Benchmark a model of this real shape with random weights: " + shapes);
  app.add_option("--type", a->type, "Weight type for --random (f32, f16, bf16, q8_0, q4_0)")
      ->capture_default_str();
  app.add_option("-p,--n-prompt", a->n_prompt, "Prompt tokens for the prefill test (0: skip)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 20));
  app.add_option("-n,--n-gen", a->n_gen, "Tokens for the decode test (0: skip)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 20));
  app.add_option("-b,--batch-size", a->batch, "Prompt tokens per forward pass")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 16));
  app.add_option("-r,--repetitions", a->repetitions, "Runs of each test, averaged")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  add_thread_arg(app, a->threads);
  app.add_flag("--json", a->json, "Print one JSON object (pp_tokens_per_s, tg_tokens_per_s, ...)");
  return [a] { return bench_command(*a); };
}

const Registration registration("bench", "Measure prefill and decode speed (like llama-bench)",
                                setup_bench);

}  // namespace
}  // namespace lmkit::cli
