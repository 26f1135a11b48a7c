// Issue 6: a 3,000-node graph lays out in <= 2 s. The graph is generated in the shape of a
// whole BERT-like model's inlined graph (tests/graph_fixtures.h); the sizes are those the
// graph view gives its boxes (two label lines of a 9-point font).
#include "graph_fixtures.h"
#include "ui/models/graphlayout.h"
#include "ui/models/visiblegraph.h"

#include <benchmark/benchmark.h>

using namespace bucketlab;

static void BM_LayoutModelGraph(benchmark::State& state)
{
    const GraphModel graph = testing::generatedModelGraph(int(state.range(0)));
    ui::VisibleGraph visible = ui::buildVisibleGraph(graph, {});
    for (auto& n : visible.nodes) {
        n.width = 12.0 + 6.0 * double(std::max(n.title.size(), n.subtitle.size()));
        n.height = 32.0;
    }
    for (auto _ : state) {
        const ui::GraphLayout layout = ui::layoutGraph(visible);
        benchmark::DoNotOptimize(layout.bounds);
    }
    state.counters["nodes"] = double(visible.nodes.size());
    state.counters["edges"] = double(visible.edges.size());
}
BENCHMARK(BM_LayoutModelGraph)->Arg(300)->Arg(3000)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
