using System.Globalization;
using System.Text;
using Xunit.Abstractions;

namespace Duckton.Transport.Tests.Fuzzing;

/// <summary>
/// Every decoder under generated and mutated input: it returns a value or throws its documented exception type —
/// never anything else, never hangs. A bounded count runs with the unit tests; the long job runs ≥ 10 M inputs per
/// decoder with <c>DUCKTON_FUZZ_INPUTS=10000000 dotnet test tests/Duckton.Transport.Tests -c Release --filter
/// "FullyQualifiedName~FuzzTests.Every_decoder"</c> (docs/TESTING.md "Fuzzing").
/// </summary>
public sealed class FuzzTests(ITestOutputHelper output)
{
    /// <summary>Per decoder in the unit run: seconds in total on a loaded 2-core machine.</summary>
    private const long UnitInputs = 20_000;

    public static TheoryData<string> Targets()
    {
        var data = new TheoryData<string>();
        foreach (var t in FuzzTargets.All())
        {
            data.Add(t.Name);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public async Task Every_decoder_survives_mutated_input(string name)
    {
        var target = FuzzTargets.All().Single(t => t.Name == name);
        var inputs = Fuzzer.InputsPerDecoder(UnitInputs);
        // A hang cannot be interrupted inside a decoder: run it aside and fail when no input finishes for a minute
        // (the slowest input measured takes well under a second; throughput alone would only measure the machine's load).
        var done = new System.Runtime.CompilerServices.StrongBox<long>();
        var run = Task.Run(() => Fuzzer.Run(target, inputs, Fuzzer.Seed, done));
        var stalled = TimeSpan.FromSeconds(60);
        var (last, since) = (-1L, DateTime.UtcNow);
        while (!run.IsCompleted)
        {
            await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(1)));
            var now = Volatile.Read(ref done.Value);
            if (now != last)
            {
                (last, since) = (now, DateTime.UtcNow);
            }
            Assert.True(DateTime.UtcNow - since < stalled, $"{name}: no input finished for {stalled} after {last:N0} inputs (a decoder hangs)");
        }
        var report = await run;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: {report.Inputs:N0} inputs in {report.Elapsed.TotalSeconds:F1} s ({report.Inputs / Math.Max(report.Elapsed.TotalSeconds, 1e-3):N0}/s), accepted {report.Accepted:N0}, rejected {report.Rejected:N0}, slowest {report.Slowest.TotalMilliseconds:F1} ms, {report.Interesting.Count} distinct outcomes"));
        var crashes = string.Join("\n", report.Crashes.Take(4).Select(c => $"{Convert.ToHexStringLower(c.Input)}: {c.Error.GetType().Name}: {c.Error.Message}"));
        Assert.True(report.Crashes.Count == 0, $"{name}: undocumented exceptions:\n{crashes}");
        // Both outcomes must occur, or the mutations never reach the decoder's logic (or never break it).
        Assert.True(report.Rejected > 0, $"{name}: no input was rejected");
        Assert.True(report.Slowest < TimeSpan.FromSeconds(5), $"{name}: one input took {report.Slowest}");
    }

    /// <summary>The corpus of interesting inputs kept under tests/ (FuzzCorpus/&lt;decoder&gt;/*.bin): each still decodes or is refused cleanly.</summary>
    [Fact]
    public void Corpus_inputs_stay_handled()
    {
        var root = Path.Combine(AppContext.BaseDirectory, "FuzzCorpus");
        var targets = FuzzTargets.All().ToDictionary(t => t.Name);
        var files = Directory.EnumerateFiles(root, "*.bin", SearchOption.AllDirectories).ToList();
        Assert.True(files.Count >= targets.Count, $"expected a corpus for every decoder under {root}, found {files.Count} files");
        var covered = new HashSet<string>();
        foreach (var file in files)
        {
            var name = Path.GetFileName(Path.GetDirectoryName(file))!;
            var target = targets[name];
            covered.Add(name);
            var input = File.ReadAllBytes(file);
            try
            {
                target.Decode(input);
            }
            catch (Exception e) when (target.Documented.Any(t => t.IsInstanceOfType(e)))
            {
            }
        }
        Assert.Equal(targets.Keys.Order(), covered.Order());
    }

    [Fact]
    public void The_mutator_is_deterministic_per_seed_and_varied()
    {
        var seeds = new[] { Encoding.UTF8.GetBytes("hello, fuzzer: 0123456789") };
        var a = Enumerable.Range(0, 200).ToList();
        var r1 = new Random(7);
        var r2 = new Random(7);
        var m1 = a.Select(_ => Convert.ToHexString(Fuzzer.Mutate(r1, seeds))).ToList();
        var m2 = a.Select(_ => Convert.ToHexString(Fuzzer.Mutate(r2, seeds))).ToList();
        Assert.Equal(m1, m2);
        Assert.True(m1.Distinct().Count() > 150);
    }
}
