// Adafactor plugin: an independent fp64 scalar-loop reference of HF's algorithm, the factored
// vs unfactored paths, update clipping, HF's relative step size, and fp32 math for bf16.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "imlsdk/parallel.hpp"
#include "optimizer_test_util.hpp"

namespace {

using imlsdk::Json;

// ---- reference: HF Adafactor for one parameter, written element by element in double -------

struct RefOptions {
  double eps1 = 1e-30, eps2 = 1e-3, clip_threshold = 1.0, decay_rate = -0.8;
  std::optional<double> beta1;
  double weight_decay = 0.0;
  bool scale_parameter = false, relative_step = false, warmup_init = false;

  Json to_json() const {
    Json j = {{"eps1", eps1}, {"eps2", eps2}, {"clip_threshold", clip_threshold},
              {"decay_rate", decay_rate}, {"weight_decay", weight_decay},
              {"scale_parameter", scale_parameter}, {"relative_step", relative_step},
              {"warmup_init", warmup_init}};
    if (beta1) j["beta1"] = *beta1;
    return j;
  }
};

// A parameter of shape [A, R, C] (factored over R and C, per leading index a) or flat (unfactored).
struct RefParam {
  int64_t A, R, C;
  bool factored;
  std::vector<double> p, m, v, row, col;  // v: unfactored second moment; row [A*R], col [A*C]
  int64_t step = 0;

  RefParam(const at::Tensor& t) {
    factored = t.dim() >= 2;
    C = factored ? t.size(-1) : t.numel();
    R = factored ? t.size(-2) : 1;
    A = t.numel() / (R * C);
    at::Tensor flat = t.detach().to(at::kDouble).contiguous().view(-1);
    p.assign(flat.data_ptr<double>(), flat.data_ptr<double>() + flat.numel());
    m.assign(p.size(), 0.0);
    v.assign(p.size(), 0.0);
    row.assign(A * R, 0.0);
    col.assign(A * C, 0.0);
  }

  static double rms(const std::vector<double>& x) {
    double s = 0;
    for (double e : x) s += e * e;
    return std::sqrt(s / x.size());
  }

  void update(const RefOptions& o, const std::vector<double>& g, double lr) {
    step += 1;
    const double k = static_cast<double>(step);
    double size = lr;
    if (o.relative_step) size = std::min(o.warmup_init ? 1e-6 * k : 1e-2, 1.0 / std::sqrt(k));
    if (o.scale_parameter) size *= std::max(o.eps2, rms(p));
    const double beta2t = 1.0 - std::pow(k, o.decay_rate);

    std::vector<double> u(p.size());
    auto at = [&](int64_t a, int64_t r, int64_t c) { return (a * R + r) * C + c; };
    if (factored) {
      for (int64_t a = 0; a < A; ++a) {
        for (int64_t r = 0; r < R; ++r) {
          double mean = 0;
          for (int64_t c = 0; c < C; ++c) mean += g[at(a, r, c)] * g[at(a, r, c)] + o.eps1;
          row[a * R + r] = beta2t * row[a * R + r] + (1 - beta2t) * mean / C;
        }
        for (int64_t c = 0; c < C; ++c) {
          double mean = 0;
          for (int64_t r = 0; r < R; ++r) mean += g[at(a, r, c)] * g[at(a, r, c)] + o.eps1;
          col[a * C + c] = beta2t * col[a * C + c] + (1 - beta2t) * mean / R;
        }
        double row_mean = 0;
        for (int64_t r = 0; r < R; ++r) row_mean += row[a * R + r] / R;
        for (int64_t r = 0; r < R; ++r)
          for (int64_t c = 0; c < C; ++c)
            u[at(a, r, c)] = g[at(a, r, c)] / std::sqrt(row[a * R + r] / row_mean * col[a * C + c]);
      }
    } else {
      for (size_t i = 0; i < p.size(); ++i) {
        v[i] = beta2t * v[i] + (1 - beta2t) * (g[i] * g[i] + o.eps1);
        u[i] = g[i] / std::sqrt(v[i]);
      }
    }
    const double clip = std::max(1.0, rms(u) / o.clip_threshold);
    for (size_t i = 0; i < p.size(); ++i) {
      double upd = u[i] / clip * size;
      if (o.beta1) {
        m[i] = *o.beta1 * m[i] + (1 - *o.beta1) * upd;
        upd = m[i];
      }
      p[i] -= o.weight_decay * size * p[i] + upd;
    }
  }
};

std::vector<double> to_vector(const at::Tensor& t) {
  at::Tensor flat = t.detach().to(at::kDouble).contiguous().view(-1);
  return std::vector<double>(flat.data_ptr<double>(), flat.data_ptr<double>() + flat.numel());
}

double max_abs_diff(const at::Tensor& t, const std::vector<double>& ref) {
  const auto v = to_vector(t);
  double d = 0;
  for (size_t i = 0; i < v.size(); ++i) d = std::max(d, std::abs(v[i] - ref[i]));
  return d;
}

struct RefCase {
  const char* label;
  RefOptions options;
};

void PrintTo(const RefCase& c, std::ostream* os) { *os << c.label; }

class AdafactorVsScalarReference : public ::testing::TestWithParam<RefCase> {};

// fp64 parameters (the plugin computes in their precision), 4 steps, changing lr.
TEST_P(AdafactorVsScalarReference, MatchesEveryStep) {
  const RefOptions o = GetParam().options;
  at::manual_seed(11);
  std::vector<at::Tensor> params = {optest::leaf(at::randn({4, 6}, at::kDouble)),
                                    optest::leaf(at::randn({6}, at::kDouble)),
                                    optest::leaf(at::randn({2, 3, 5}, at::kDouble)),
                                    optest::leaf(at::randn({}, at::kDouble))};
  std::vector<RefParam> refs(params.begin(), params.end());
  auto opt = optest::make("adafactor",
                          {{"w", params[0]}, {"b", params[1]}, {"t", params[2]}, {"s", params[3]}},
                          o.to_json());
  const double lrs[] = {1e-2, 3e-2, 5e-3, 2e-2};
  for (int k = 0; k < 4; ++k) {
    for (size_t i = 0; i < params.size(); ++i) {
      at::Tensor g = at::randn(params[i].sizes(), at::kDouble);
      optest::set_grad(params[i], g);
      refs[i].update(o, to_vector(g), lrs[k]);
    }
    opt->step(o.relative_step ? std::nan("") : lrs[k]);  // lr is ignored with relative_step
    for (size_t i = 0; i < params.size(); ++i)
      EXPECT_LE(max_abs_diff(params[i], refs[i].p), 1e-12) << "step " << k + 1 << " param " << i;
  }
}

RefOptions hf_defaults() {
  RefOptions o;
  o.scale_parameter = o.relative_step = true;
  return o;
}
RefOptions with_first_moment() {
  RefOptions o;
  o.beta1 = 0.9;
  o.weight_decay = 0.1;
  o.clip_threshold = 0.5;
  return o;
}
RefOptions warmup() {
  RefOptions o = hf_defaults();
  o.warmup_init = true;
  o.decay_rate = -0.5;
  return o;
}

INSTANTIATE_TEST_SUITE_P(Settings, AdafactorVsScalarReference,
                         ::testing::Values(RefCase{"trainer", RefOptions{}},
                                           RefCase{"hf_defaults", hf_defaults()},
                                           RefCase{"beta1_wd_clip", with_first_moment()},
                                           RefCase{"warmup_init", warmup()}),
                         [](const auto& info) { return std::string(info.param.label); });

// ---- properties ----------------------------------------------------------------------------

// For a rank-1 g^2 the factored estimate row*col/mean(row) is exact, so a matrix moves exactly
// as the same values would as an (unfactored) vector.
TEST(Adafactor, FactoredEqualsUnfactoredForRankOneGradients) {
  at::manual_seed(3);
  at::Tensor init = at::randn({4, 5});
  at::Tensor mat = optest::leaf(init), vec = optest::leaf(init.reshape({20}));
  auto opt = optest::make("adafactor", {{"mat", mat}, {"vec", vec}});
  const at::Tensor g = at::outer(at::randn({4}), at::randn({5}));
  for (double scale : {1.0, 2.0, -0.5}) {  // g^2 averages stay rank 1
    optest::set_grad(mat, g * scale);
    optest::set_grad(vec, (g * scale).reshape({20}));
    opt->step(1e-2);
    EXPECT_LE(optest::max_abs_diff(mat.reshape({20}), vec), 1e-6);
  }
  const auto st = opt->state();
  EXPECT_EQ(st.at("mat.exp_avg_sq_row").sizes(), at::IntArrayRef({4}));
  EXPECT_EQ(st.at("mat.exp_avg_sq_col").sizes(), at::IntArrayRef({5}));
  EXPECT_EQ(st.at("vec.exp_avg_sq").sizes(), at::IntArrayRef({20}));
  EXPECT_EQ(st.count("mat.exp_avg_sq"), 0u);
  EXPECT_EQ(st.count("vec.exp_avg_sq_row"), 0u);
  EXPECT_EQ(st.count("mat.exp_avg"), 0u);  // no beta1, no first moment
  EXPECT_EQ(st.at("mat.step").item<int64_t>(), 3);
}

TEST(Adafactor, FactorsOverTheLastTwoDims) {
  at::Tensor t = optest::leaf(at::randn({2, 3, 4}));
  auto opt = optest::make("adafactor", {{"t", t}}, {{"beta1", 0.5}});
  optest::set_grad(t, at::randn({2, 3, 4}));
  opt->step(1e-3);
  const auto st = opt->state();
  EXPECT_EQ(st.at("t.exp_avg_sq_row").sizes(), at::IntArrayRef({2, 3}));
  EXPECT_EQ(st.at("t.exp_avg_sq_col").sizes(), at::IntArrayRef({2, 4}));
  EXPECT_EQ(st.at("t.exp_avg").sizes(), at::IntArrayRef({2, 3, 4}));
}

// Step 1 of an unfactored (1-D) parameter: beta2t = 0, so the update is g/sqrt(g^2 + eps1) =
// sign(g), RMS 1, not clipped.
TEST(Adafactor, TrainerDefaultsFirstStepIsLrTimesSignOfGradient) {
  at::manual_seed(5);
  at::Tensor p = optest::leaf(at::randn({18}));
  const at::Tensor init = p.detach().clone(), g = at::randn({18});
  auto opt = optest::make("adafactor", {{"p", p}});  // defaults: HF Trainer's optim=adafactor
  optest::set_grad(p, g);
  opt->step(1e-3);
  EXPECT_LE(optest::max_abs_diff(p, init - 1e-3 * g.sign()), 1e-7);
}

// HF's own defaults (relative_step, scale_parameter): the scheduled lr is ignored and step k
// moves by min(1e-2, 1/sqrt(k)) * max(eps2, RMS(p before the step)), or min(1e-6*k, 1/sqrt(k))
// with warmup_init. A constant gradient keeps the normalized update at sign(g), unclipped.
TEST(Adafactor, RelativeStepSize) {
  const at::Tensor g = at::tensor({1.0f, -2.0f, 0.5f, -0.25f});
  struct Case {
    bool scale_parameter, warmup_init;
    float init;  // every element, so RMS(p) starts at |init|
  };
  const Case cases[] = {{true, false, 2.0f}, {true, false, 0.0f},  // 0: RMS < eps2, eps2 scales
                        {true, true, 2.0f}, {false, false, 2.0f}};
  for (const auto& c : cases) {
    at::Tensor p = optest::leaf(at::full({4}, c.init));
    auto opt = optest::make("adafactor", {{"p", p}},
                            {{"relative_step", true}, {"scale_parameter", c.scale_parameter},
                             {"warmup_init", c.warmup_init}});
    for (int k = 1; k <= 3; ++k) {
      optest::set_grad(p, g);
      const at::Tensor before = p.detach().clone();
      opt->step(std::nan(""));
      const double rms = before.to(at::kDouble).pow(2).mean().sqrt().item<double>();
      const double base = std::min(c.warmup_init ? 1e-6 * k : 1e-2, 1.0 / std::sqrt(k));
      const double size = base * (c.scale_parameter ? std::max(1e-3, rms) : 1.0);
      EXPECT_LE(optest::max_abs_diff(p - before, -size * g.sign()), 1e-7)
          << "scale " << c.scale_parameter << " warmup " << c.warmup_init << " init " << c.init
          << " step " << k;
    }
  }
}

// A small gradient then a large one: g/sqrt(v) exceeds 1 and is scaled down to RMS clip_threshold.
TEST(Adafactor, ClipsTheUpdateRms) {
  for (double clip : {1.0, 2.0}) {
    at::Tensor p = optest::leaf(at::zeros({8}));
    auto opt = optest::make("adafactor", {{"p", p}}, {{"clip_threshold", clip}});
    optest::set_grad(p, at::full({8}, 1e-3f));
    opt->step(1.0);
    const at::Tensor after1 = p.detach().clone();
    optest::set_grad(p, at::ones({8}));
    opt->step(1.0);
    const double beta2t = 1.0 - std::pow(2.0, -0.8);
    const double raw = 1.0 / std::sqrt(beta2t * (1e-6 + 1e-30) + (1 - beta2t) * (1.0 + 1e-30));
    const double expected = raw > clip ? clip : raw;  // clip 1: clipped; clip 2: raw (1.32)
    EXPECT_LE(optest::max_abs_diff(after1 - p, at::full({8}, expected)), 1e-6) << "clip " << clip;
  }
}

TEST(Adafactor, WeightDecayScalesWithTheStepSize) {
  at::Tensor p = optest::leaf(at::full({3}, 4.0f));
  auto opt = optest::make("adafactor", {{"p", p}}, {{"weight_decay", 0.5}});
  optest::set_grad(p, at::ones({3}));
  opt->step(0.1);
  EXPECT_LE(optest::max_abs_diff(p, at::full({3}, 4.0 - 0.5 * 0.1 * 4.0 - 0.1)), 1e-6);
}

// bf16/fp16 parameters are updated in fp32 and rounded once; the state stays fp32.
TEST(Adafactor, ReducedPrecisionParametersAreComputedInFloat) {
  for (auto dtype : {at::kBFloat16, at::kHalf}) {
    at::manual_seed(9);
    at::Tensor low = optest::leaf(at::randn({5, 4}).to(dtype));
    at::Tensor full = optest::leaf(low.detach().to(at::kFloat));
    auto opt_low = optest::make("adafactor", {{"p", low}}, {{"beta1", 0.9}});
    auto opt_full = optest::make("adafactor", {{"p", full}}, {{"beta1", 0.9}});
    const at::Tensor g = at::randn({5, 4}).to(dtype);
    optest::set_grad(low, g);
    optest::set_grad(full, g.to(at::kFloat));
    opt_low->step(1e-2);
    opt_full->step(1e-2);
    EXPECT_EQ(low.scalar_type(), dtype);
    EXPECT_TRUE(low.detach().equal(full.detach().to(dtype)));
    for (const auto& kv : opt_low->state())
      if (kv.first != "p.step") EXPECT_EQ(kv.second.scalar_type(), at::kFloat) << kv.first;
  }
}

}  // namespace

// ---- the fused CPU kernel against HF's tensor expressions (kernel: reference) --------------

// fp32 matrices (2-D and 3-D) where many gradient rows are exactly zero, as in an input
// embedding, and one row holds only underflowing values; with and without weight decay and
// parameter scaling. The fused kernel must agree with the reference to float round-off in the
// parameters and in both second-moment factors, and must leave zero rows untouched.
TEST(Adafactor, FusedKernelMatchesReference) {
  struct Case {
    double weight_decay;
    bool scale_parameter;
  };
  for (const Case c : {Case{0.0, false}, Case{0.1, false}, Case{0.0, true}}) {
    at::manual_seed(21);
    // {1100, 256}: more rows than one block of the fused kernel's pass 2, which then runs on two
    // threads.
    const std::vector<std::vector<int64_t>> shapes = {{64, 48}, {3, 10, 7}, {1, 33}, {1100, 256}};
    std::vector<at::Tensor> fused_p, ref_p;
    imlsdk::NamedTensors fused_named, ref_named;
    for (size_t i = 0; i < shapes.size(); ++i) {
      at::Tensor init = at::randn(shapes[i]);
      if (i == 0) init[7].zero_();  // so that the underflowing row's tiny update shows
      fused_p.push_back(optest::leaf(init));
      ref_p.push_back(optest::leaf(init));
      fused_named.emplace_back("p" + std::to_string(i), fused_p.back());
      ref_named.emplace_back("p" + std::to_string(i), ref_p.back());
    }
    const imlsdk::Json o = {{"weight_decay", c.weight_decay}, {"scale_parameter", c.scale_parameter}};
    imlsdk::Json ref_o = o;
    ref_o["kernel"] = "reference";
    auto fused = optest::make("adafactor", fused_named, o);
    auto ref = optest::make("adafactor", ref_named, ref_o);
    for (int step = 0; step < 3; ++step) {
      for (size_t i = 0; i < shapes.size(); ++i) {
        at::Tensor g = at::randn(shapes[i]);
        if (shapes[i].size() == 2 && shapes[i][0] == 64) {
          // rows 0..49 zero except a few; row 7 only underflowing values (g^2 == 0 in fp32)
          g.narrow(0, 0, 50).zero_();
          g[3] = at::randn({48});
          g[7].fill_(1e-25f);
        }
        if (shapes[i][0] == 1100) g.narrow(0, 100, 700).zero_();
        optest::set_grad(fused_p[i], g);
        optest::set_grad(ref_p[i], g);
      }
      const at::Tensor zero_row_before = fused_p[0].detach()[0].clone();
      fused->step(1e-2);
      ref->step(1e-2);
      for (size_t i = 0; i < shapes.size(); ++i) {
        const double scale = ref_p[i].detach().abs().max().item<double>();
        EXPECT_LE(optest::max_abs_diff(fused_p[i], ref_p[i]), 2e-6 * scale)
            << "param " << i << " step " << step << " wd " << c.weight_decay;
      }
      if (c.weight_decay == 0)
        EXPECT_TRUE(fused_p[0].detach()[0].equal(zero_row_before)) << "a zero-gradient row moved";
      if (c.weight_decay == 0 && step == 0)
        EXPECT_GT(fused_p[0].detach()[7].abs().max().item<double>(), 0.0)
            << "a row whose g^2 underflows to 0 is not a zero row and must be updated";
      const auto fs = fused->state(), rs = ref->state();
      ASSERT_EQ(fs.size(), rs.size());
      for (const auto& [key, t] : rs) {
        if (key.size() > 5 && key.compare(key.size() - 5, 5, ".step") == 0) {
          EXPECT_TRUE(t.equal(fs.at(key))) << key;
          continue;
        }
        const double scale = t.abs().max().item<double>();
        EXPECT_LE(optest::max_abs_diff(fs.at(key), t), 1e-6 * scale) << key;
      }
    }
  }
}

// On the CPU a step updates the parameters side by side in two groups, and the fused kernel's
// pass 2 runs in blocks of rows on both threads: the same bits as optimizers of one parameter
// each (one after the other), also for parameters without a gradient. With beta1 (the reference
// kernel) and without (the fused kernel, with and without weight decay).
TEST(Adafactor, UpdatesSideBySideEqualOneAtATime) {
  for (const imlsdk::Json& o : {imlsdk::Json{{"weight_decay", 0.01}, {"beta1", 0.9}},
                                imlsdk::Json{{"weight_decay", 0.01}}, imlsdk::Json::object()}) {
    at::manual_seed(23);
    // More than imlsdk::kSideBySideMinElements in all, so that the update runs side by side;
    // {1100, 256} is more than one block of pass 2.
    const std::vector<std::vector<int64_t>> shapes = {{256, 192}, {3, 10, 7}, {33}, {128}, {5, 9}, {20000}, {1100, 256}};
    int64_t total = 0;
    for (const auto& shape : shapes) total += c10::multiply_integers(shape);
    ASSERT_GE(total, imlsdk::kSideBySideMinElements);
    std::vector<at::Tensor> together_p, alone_p;
    imlsdk::NamedTensors together_named;
    std::vector<optest::Built> alone;
    for (size_t i = 0; i < shapes.size(); ++i) {
      const at::Tensor init = at::randn(shapes[i]);
      together_p.push_back(optest::leaf(init));
      alone_p.push_back(optest::leaf(init));
      together_named.emplace_back("p" + std::to_string(i), together_p.back());
      alone.push_back(optest::make("adafactor", {{"p" + std::to_string(i), alone_p.back()}}, o));
    }
    auto together = optest::make("adafactor", together_named, o);
    for (int step = 0; step < 3; ++step) {
      for (size_t i = 0; i < shapes.size(); ++i) {
        if (step == 1 && i == 2) {  // no gradient this step: skipped
          together_p[i].mutable_grad().reset();
          alone_p[i].mutable_grad().reset();
          continue;
        }
        at::Tensor g = at::randn(shapes[i]);
        if (shapes[i][0] == 1100) g.narrow(0, 100, 700).zero_();  // zero rows, as in an embedding
        optest::set_grad(together_p[i], g);
        optest::set_grad(alone_p[i], g);
      }
      together->step(1e-2);
      for (const auto& opt : alone) opt->step(1e-2);
      for (size_t i = 0; i < shapes.size(); ++i)
        EXPECT_TRUE(together_p[i].detach().equal(alone_p[i].detach())) << "param " << i << " step " << step << " " << o.dump();
    }
    const auto state = together->state();
    for (size_t i = 0; i < shapes.size(); ++i)
      for (const auto& [key, t] : alone[i]->state()) EXPECT_TRUE(t.equal(state.at(key))) << key << " " << o.dump();
  }
}

// SDK 2.9: step_scaled(lr, k) reads every gradient as grad * k, leaving the gradients as they
// are: the bits of scaling the gradients first (as clip_grad_norm does) and calling step(lr). The
// fused kernel (with and without weight decay and parameter scaling), the reference kernel (with
// a first moment), and bf16 parameters (their gradients scaled in bf16, as clip_grad_norm would).
TEST(Adafactor, ScaledStepEqualsScalingTheGradientsFirst) {
  const std::vector<imlsdk::Json> settings = {
      imlsdk::Json::object(), imlsdk::Json{{"weight_decay", 0.1}, {"scale_parameter", true}},
      imlsdk::Json{{"beta1", 0.9}}, imlsdk::Json{{"kernel", "reference"}}};
  for (const auto& o : settings) {
    for (const auto dtype : {at::kFloat, at::kBFloat16}) {
      SCOPED_TRACE(o.dump() + (dtype == at::kFloat ? " fp32" : " bf16"));
      at::manual_seed(31);
      const std::vector<std::vector<int64_t>> shapes = {{64, 48}, {3, 10, 7}, {33}, {1100, 256}};
      std::vector<at::Tensor> folded_p, first_p;
      imlsdk::NamedTensors folded_named, first_named;
      for (size_t i = 0; i < shapes.size(); ++i) {
        const at::Tensor init = at::randn(shapes[i]).to(dtype);
        folded_p.push_back(optest::leaf(init));
        first_p.push_back(optest::leaf(init));
        folded_named.emplace_back("p" + std::to_string(i), folded_p.back());
        first_named.emplace_back("p" + std::to_string(i), first_p.back());
      }
      auto folded = optest::make("adafactor", folded_named, o);
      auto first = optest::make("adafactor", first_named, o);
      const double factors[] = {0.3, 1.0, 0.0123};
      for (int step = 0; step < 3; ++step) {
        std::vector<at::Tensor> gs;
        for (size_t i = 0; i < shapes.size(); ++i) {
          at::Tensor g = (at::randn(shapes[i]) * 5).to(dtype);
          if (shapes[i][0] == 1100) g.narrow(0, 100, 700).zero_();
          gs.push_back(g);
          optest::set_grad(folded_p[i], g.clone());
          optest::set_grad(first_p[i], g.clone());
        }
        const double k = factors[step];
        ASSERT_TRUE(folded->step_scaled(1e-2, k));
        for (auto& p : first_p) p.mutable_grad().mul_(k);
        first->step(1e-2);
        for (size_t i = 0; i < shapes.size(); ++i) {
          EXPECT_TRUE(folded_p[i].detach().equal(first_p[i].detach())) << "param " << i << " step " << step;
          EXPECT_TRUE(folded_p[i].grad().equal(gs[i])) << "the gradient of param " << i << " changed";
        }
      }
      const auto fs = folded->state();
      for (const auto& [key, t] : first->state()) EXPECT_TRUE(t.equal(fs.at(key))) << key;
    }
  }
}

TEST(Adafactor, RejectsAnUnknownKernel) {
  at::Tensor p = optest::leaf(at::randn({2, 2}));
  for (const char* kernel : {"fast", "fused", "fused-sse9", "Fused-avx2"})
    EXPECT_THROW(optest::make("adafactor", {{"p", p}}, {{"kernel", kernel}}), std::invalid_argument) << kernel;
}

// The fused kernel's row pass compiled for AVX2 and AVX-512 (the kernel 'auto' takes the widest
// this CPU runs) gives the generic build's bits: parameters and second moments, over steps with
// zero rows, an underflowing row, rows whose length is no multiple of the vector width, weight
// decay and a 3-D parameter. Each version this CPU lacks is refused at creation instead.
TEST(Adafactor, FusedKernelVersionsGiveTheSameBits) {
  const std::vector<std::vector<int64_t>> shapes = {{64, 48}, {3, 10, 7}, {37, 45}, {1100, 256}, {5, 1}};
  auto run = [&](const std::string& kernel, double weight_decay) {
    at::manual_seed(29);
    std::vector<at::Tensor> params;
    imlsdk::NamedTensors named;
    for (size_t i = 0; i < shapes.size(); ++i) {
      params.push_back(optest::leaf(at::randn(shapes[i])));
      named.emplace_back("p" + std::to_string(i), params.back());
    }
    auto opt = optest::make("adafactor", named, {{"kernel", kernel}, {"weight_decay", weight_decay}});
    for (int step = 0; step < 3; ++step) {
      for (size_t i = 0; i < shapes.size(); ++i) {
        at::Tensor g = at::randn(shapes[i]) * std::pow(10.0, static_cast<double>(i) - 2.0);
        if (shapes[i][0] == 64) {
          g.narrow(0, 0, 50).zero_();
          g[3] = at::randn({48});
          g[7].fill_(1e-25f);
        }
        if (shapes[i][0] == 1100) g.narrow(0, 100, 700).zero_();
        optest::set_grad(params[i], g);
      }
      opt->step(1e-2);
    }
    std::vector<at::Tensor> out;
    for (const auto& p : params) out.push_back(p.detach().clone());
    for (const auto& [key, t] : opt->state()) out.push_back(t);
    return out;
  };
  for (const double wd : {0.0, 0.1}) {
    const auto generic = run("fused-generic", wd);
    int compared = 0;
    for (const std::string kernel : {"fused-avx2", "fused-avx512", "auto"}) {
      std::vector<at::Tensor> got;
      try {
        got = run(kernel, wd);
      } catch (const std::invalid_argument& e) {
        EXPECT_NE(kernel, "auto") << e.what();
        EXPECT_NE(std::string(e.what()).find("lacks"), std::string::npos) << e.what();
        continue;
      }
      ++compared;
      ASSERT_EQ(got.size(), generic.size());
      for (size_t i = 0; i < got.size(); ++i)
        EXPECT_TRUE(got[i].equal(generic[i])) << kernel << " tensor " << i << " weight decay " << wd;
    }
    EXPECT_GE(compared, 1);
  }
}
