using System.CommandLine;
using System.Globalization;
using Duckton.Core.Configuration;
using Duckton.Simulation;

namespace Duckton.Cli;

/// <summary><c>duckton bench sim</c>: the in-process grid simulator (membership, receipt gossip and selection at scale).</summary>
internal static class SimBenchmark
{
    public static Command Command()
    {
        var nodes = new Option<string>("--nodes") { Description = "Grid sizes to simulate, comma-separated", DefaultValueFactory = _ => "100,1000,10000" };
        var rounds = new Option<int>("--rounds") { Description = "Heartbeats simulated per grid", DefaultValueFactory = _ => 40 };
        var join = new Option<int>("--join-round") { Description = "Heartbeat at which a new host joins", DefaultValueFactory = _ => 20 };
        var fanout = new Option<int>("--fanout") { Description = "Peers each round exchanges with besides the seeds (discovery.gossip.fanout)", DefaultValueFactory = _ => new SimulationOptions().Fanout };
        var seeds = new Option<int>("--seeds") { Description = "Seed hosts every node bootstraps from", DefaultValueFactory = _ => 3 };
        var loss = new Option<double>("--loss") { Description = "Probability that one exchange fails", DefaultValueFactory = _ => 0.01 };
        var seed = new Option<int>("--seed") { Description = "Random seed (same seed, same run)", DefaultValueFactory = _ => 1 };
        var svg = new Option<string?>("--svg") { Description = "Write the plot (SVG) to this file" };
        var markdown = new Option<string?>("--markdown") { Description = "Write the table (Markdown) to this file" };
        var maxHeap = new Option<string?>("--max-heap")
        {
            Description = "Stop a grid (and say so in its table) when the simulator's managed heap passes this size, e.g. 12GiB (default: three quarters of the memory available to the process)",
        };
        var command = new Command("sim", "Simulated grid of many hosts on a virtual clock: membership convergence, gossip bytes, time for a new host to be selectable");
        foreach (var o in new Option[] { nodes, rounds, join, fanout, seeds, loss, seed, svg, markdown, maxHeap })
        {
            command.Options.Add(o);
        }
        command.SetAction(parse =>
        {
            long heapLimit = DefaultHeapLimit();
            if (parse.GetValue(maxHeap) is { } heapText && (!ConfigKey.TryParseByteSize(heapText, out heapLimit) || heapLimit <= 0))
            {
                Console.Error.WriteLine($"--max-heap: '{heapText}' is not a size (e.g. 12GiB, 512MiB)");
                return 2;
            }
            var sizes = parse.GetValue(nodes)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(s => int.Parse(s, NumberStyles.AllowThousands, CultureInfo.InvariantCulture)).ToList();
            var results = new List<SimulationResult>();
            foreach (var n in sizes)
            {
                var options = new SimulationOptions
                {
                    Nodes = n,
                    Rounds = parse.GetValue(rounds),
                    JoinRound = parse.GetValue(join),
                    Fanout = parse.GetValue(fanout),
                    Seeds = parse.GetValue(seeds),
                    Loss = parse.GetValue(loss),
                    RandomSeed = parse.GetValue(seed),
                    MaxManagedBytes = heapLimit,
                };
                results.Add(new GridSimulator(options, line => Console.Error.WriteLine(line)).Run());
                // Each grid's O(n²) tables are garbage once its figures are taken: free them before the next size.
                GC.Collect();
            }
            var table = SimulationReport.Markdown(results);
            Console.Out.WriteLine(table);
            if (parse.GetValue(markdown) is { Length: > 0 } md)
            {
                File.WriteAllText(md, table);
            }
            if (parse.GetValue(svg) is { Length: > 0 } path)
            {
                File.WriteAllText(path, SimulationReport.Svg(results));
                Console.Out.WriteLine($"plot: {path}");
            }
            return 0;
        });
        return command;
    }

    /// <summary>Every host's table is held in this one process (O(n × view) memory): let a large grid use most of the machine.</summary>
    private static long DefaultHeapLimit() => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 4 * 3;
}
