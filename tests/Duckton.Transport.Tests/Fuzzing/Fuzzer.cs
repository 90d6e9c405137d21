using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;

namespace Duckton.Transport.Tests.Fuzzing;

/// <summary>One decoder under fuzzing: valid seed encodings, the decode call, and the exception types it documents.</summary>
public sealed record FuzzTarget(string Name, IReadOnlyList<byte[]> Seeds, Action<byte[]> Decode, IReadOnlyList<Type> Documented);

/// <summary>What one fuzzing run saw.</summary>
public sealed record FuzzReport(string Target, long Inputs, long Accepted, long Rejected, TimeSpan Elapsed, TimeSpan Slowest, IReadOnlyList<(byte[] Input, Exception Error)> Crashes,
    IReadOnlyDictionary<string, byte[]> Interesting);

/// <summary>
/// A seeded mutation fuzzer: every input is a mutation of a valid seed (bit flips, random bytes, boundary integers
/// written over length fields, inserted / deleted / duplicated ranges, truncation, splices of two seeds) or, one time
/// in sixteen, fully random bytes. A decode may return a value or throw one of the decoder's documented exception
/// types; anything else is a crash. Inputs that end in a new outcome (a new exception message shape) are "interesting"
/// and can be written to the corpus kept under tests/ (see <see cref="CorpusOut"/>).
/// </summary>
public static class Fuzzer
{
    /// <summary>Inputs per decoder: <c>DUCKTON_FUZZ_INPUTS</c> (the long job uses 10,000,000), else <paramref name="fallback"/>.</summary>
    public static long InputsPerDecoder(long fallback)
    {
        var env = Environment.GetEnvironmentVariable("DUCKTON_FUZZ_INPUTS");
        return env is { Length: > 0 } && long.TryParse(env, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : fallback;
    }

    /// <summary><c>DUCKTON_FUZZ_SEED</c>, else a fixed seed (runs are reproducible unless a seed is asked for).</summary>
    public static int Seed => int.TryParse(Environment.GetEnvironmentVariable("DUCKTON_FUZZ_SEED"), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var s) ? s : 20261205;

    /// <summary><c>DUCKTON_FUZZ_CORPUS_OUT</c>: a directory to write newly interesting inputs to (one sub-directory per decoder).</summary>
    public static string? CorpusOut => Environment.GetEnvironmentVariable("DUCKTON_FUZZ_CORPUS_OUT") is { Length: > 0 } d ? d : null;

    private static readonly int[] Boundaries = [0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0xFFFF, 0x10000, 0x7FFFFFFF, unchecked((int)0x80000000), -1, 16 << 20, (16 << 20) + 1];

    public static byte[] Mutate(Random rng, IReadOnlyList<byte[]> seeds)
    {
        if (rng.Next(16) == 0)
        {
            var random = new byte[rng.Next(0, 512)];
            rng.NextBytes(random);
            return random;
        }
        var data = new List<byte>(seeds[rng.Next(seeds.Count)]);
        var rounds = 1 + rng.Next(4);
        for (var i = 0; i < rounds; i++)
        {
            var at = data.Count == 0 ? 0 : rng.Next(data.Count);
            switch (rng.Next(9))
            {
                case 0 when data.Count > 0:
                    data[at] ^= (byte)(1 << rng.Next(8));
                    break;
                case 1 when data.Count > 0:
                    data[at] = (byte)rng.Next(256);
                    break;
                case 2:
                    {
                        // A boundary integer over whatever is there (lengths and counts are u8/u16/u32 little-endian).
                        var v = Boundaries[rng.Next(Boundaries.Length)];
                        var width = 1 << rng.Next(3);
                        for (var b = 0; b < width && at + b < data.Count; b++)
                        {
                            data[at + b] = (byte)(v >> (8 * b));
                        }
                        break;
                    }
                case 3:
                    {
                        var extra = new byte[rng.Next(1, 16)];
                        rng.NextBytes(extra);
                        data.InsertRange(Math.Min(at, data.Count), extra);
                        break;
                    }
                case 4 when data.Count > 0:
                    data.RemoveRange(at, Math.Min(data.Count - at, rng.Next(1, 16)));
                    break;
                case 5 when data.Count > 0:
                    {
                        var len = Math.Min(data.Count - at, rng.Next(1, 32));
                        data.InsertRange(rng.Next(data.Count), data.GetRange(at, len));
                        break;
                    }
                case 6 when data.Count > 0:
                    data.RemoveRange(at, data.Count - at); // truncation
                    break;
                case 7:
                    {
                        var other = seeds[rng.Next(seeds.Count)];
                        if (other.Length > 0)
                        {
                            var from = rng.Next(other.Length);
                            data.RemoveRange(at, data.Count - at);
                            data.AddRange(other.AsSpan(from).ToArray());
                        }
                        break;
                    }
                default:
                    if (data.Count > 0)
                    {
                        data[at] = (byte)(rng.Next(2) == 0 ? 0 : 0xFF);
                    }
                    break;
            }
        }
        return [.. data];
    }

    /// <summary>
    /// Runs <paramref name="inputs"/> mutated inputs through <paramref name="target"/> on this thread. Stops early
    /// after 16 crashes. Seeds are decoded first and must be accepted (a fuzzer whose seeds fail proves nothing).
    /// </summary>
    /// <param name="done">When given, the count of inputs finished so far (a watchdog tells a hang from a slow machine by it).</param>
    public static FuzzReport Run(FuzzTarget target, long inputs, int seed, System.Runtime.CompilerServices.StrongBox<long>? done = null)
    {
        foreach (var s in target.Seeds)
        {
            target.Decode(s);
        }
        var rng = new Random(seed ^ target.Name.Aggregate(17, (h, ch) => unchecked((h * 31) + ch))); // stable per decoder (string hash codes are per process)
        var crashes = new List<(byte[], Exception)>();
        var interesting = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        long accepted = 0, rejected = 0;
        var slowest = TimeSpan.Zero;
        var wall = Stopwatch.StartNew();
        for (long i = 0; i < inputs && crashes.Count < 16; i++)
        {
            var input = Mutate(rng, target.Seeds);
            var started = Stopwatch.GetTimestamp();
            string outcome;
            try
            {
                target.Decode(input);
                accepted++;
                outcome = "accepted";
            }
            catch (Exception e) when (target.Documented.Any(t => t.IsInstanceOfType(e)))
            {
                rejected++;
                outcome = e.GetType().Name + ":" + Shape(e.Message);
            }
            catch (Exception e)
            {
                crashes.Add((input, e));
                outcome = "crash:" + e.GetType().Name;
            }
            var took = Stopwatch.GetElapsedTime(started);
            if (done is not null)
            {
                Volatile.Write(ref done.Value, i + 1);
            }
            if (took > slowest)
            {
                slowest = took;
            }
            if (interesting.Count < 512 && !interesting.ContainsKey(outcome))
            {
                interesting[outcome] = input;
            }
        }
        if (CorpusOut is { } dir)
        {
            var to = Path.Combine(dir, target.Name);
            Directory.CreateDirectory(to);
            foreach (var input in interesting.Values.Take(64).Concat(crashes.Select(c => c.Item1)))
            {
                File.WriteAllBytes(Path.Combine(to, Convert.ToHexStringLower(SHA256.HashData(input))[..16] + ".bin"), input);
            }
        }
        return new FuzzReport(target.Name, inputs, accepted, rejected, wall.Elapsed, slowest, crashes, interesting);
    }

    /// <summary>An exception message with its numbers removed: "truncated payload reading x" is one outcome whatever the offsets.</summary>
    private static string Shape(string message)
    {
        var chars = message.Where(ch => !char.IsAsciiDigit(ch)).Take(60).ToArray();
        return new string(chars);
    }
}
