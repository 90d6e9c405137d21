using System.Diagnostics;
using Duckton.Core.Data;
using FsCheck.Fluent;

namespace Duckton.Core.Tests.Data;

/// <summary>
/// Mutates and truncates valid encodings (deterministic seed) and checks the decoder only ever answers with a value or
/// a <see cref="CodecException"/>, quickly, and allocating no more than a small multiple of its input.
/// </summary>
public class BatchCodecFuzzTests
{
    private const int Iterations = 20_000;

    // Per decode: a vector object per type node and a 4-byte offset per 1-byte length can make allocation a few
    // hundred times a tiny input; the point is that it is bounded by the input, not by counts the input claims.
    private const long AllocationPerInputByte = 512;
    private const long AllocationSlack = 256 * 1024;

    private static readonly CodecLimits s_limits = new() { MaxRowsPerBatch = 1 << 16, MaxTotalValues = 1 << 20, MaxStringBytes = 1 << 16 };

    private static List<(ResultSchema Schema, byte[] SchemaBytes, byte[] BatchBytes)> Corpus()
    {
        var corpus = new List<(ResultSchema, byte[], byte[])>();
        foreach (var (name, batch) in SampleBatches.All())
        {
            if (name is "enum70000" or "varchar")
            {
                continue; // large; the mutations are better spent on small inputs
            }
            corpus.Add((batch.Schema, BatchCodec.EncodeSchema(batch.Schema), BatchCodec.EncodeBatch(batch)));
        }
        foreach (var batch in BatchGenerators.Batch().Sample(40, new FsCheck.Rnd(5UL, 7UL), 30))
        {
            corpus.Add((batch.Schema, BatchCodec.EncodeSchema(batch.Schema), BatchCodec.EncodeBatch(batch)));
        }
        return corpus;
    }

    [Fact]
    public void Mutated_encodings_only_ever_raise_CodecException()
    {
        var corpus = Corpus();
        var random = new Random(20_240_501);
        var stopwatch = Stopwatch.StartNew();
        int accepted = 0, rejected = 0;
        for (var i = 0; i < Iterations; i++)
        {
            var (schema, schemaBytes, batchBytes) = corpus[random.Next(corpus.Count)];
            var mutateSchema = random.Next(4) == 0;
            var input = Mutate(random, mutateSchema ? schemaBytes : batchBytes);
            var before = GC.GetAllocatedBytesForCurrentThread();
            var allocated = 0L;
            try
            {
                if (mutateSchema)
                {
                    BatchCodec.DecodeSchema(input, s_limits);
                    allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                }
                else
                {
                    var batch = BatchCodec.DecodeBatch(input, schema, s_limits);
                    allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                    // Whatever the decoder accepts must be printable.
                    for (var c = 0; c < batch.Columns.Length; c++)
                    {
                        for (var row = 0; row < Math.Min(batch.RowCount, 50); row++)
                        {
                            _ = ValueFormatter.Format(batch.Columns[c], row);
                        }
                    }
                }
                accepted++;
            }
            catch (CodecException)
            {
                allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                rejected++;
            }
            catch (Exception e)
            {
                Assert.Fail($"iteration {i}: {e.GetType().Name} on input {Convert.ToHexString(input.AsSpan(0, Math.Min(input.Length, 64)))}: {e}");
            }
            Assert.True(allocated <= (input.Length * AllocationPerInputByte) + AllocationSlack,
                $"iteration {i}: decoding {input.Length} bytes of ({string.Join(", ", schema.Types)}) allocated {allocated} bytes: {Convert.ToHexString(input)}");
        }
        Assert.True(rejected > Iterations / 4, $"only {rejected} of {Iterations} mutations were rejected");
        Assert.True(accepted > 0);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(20), $"fuzzing took {stopwatch.Elapsed}");
    }

    [Fact]
    public void Random_bytes_only_ever_raise_CodecException()
    {
        var random = new Random(99);
        var schema = new ResultSchema(["a", "b"], [DuckType.List(DuckType.Varchar), DuckType.Struct([new DuckField("x", DuckType.Decimal(38, 2))])]);
        for (var i = 0; i < 5_000; i++)
        {
            var input = new byte[random.Next(0, 64)];
            random.NextBytes(input);
            if (input.Length > 0 && random.Next(2) == 0)
            {
                input[0] = BatchCodec.Version;
            }
            try
            {
                BatchCodec.DecodeBatch(input, schema);
            }
            catch (CodecException)
            {
            }
            try
            {
                BatchCodec.DecodeSchema(input);
            }
            catch (CodecException)
            {
            }
        }
    }

    private static byte[] Mutate(Random random, byte[] original)
    {
        var bytes = new List<byte>(original);
        var mutations = random.Next(1, 4);
        for (var m = 0; m < mutations; m++)
        {
            switch (random.Next(7))
            {
                case 0 when bytes.Count > 0: // truncate
                {
                    var keep = random.Next(bytes.Count);
                    bytes.RemoveRange(keep, bytes.Count - keep);
                    break;
                }
                case 1 when bytes.Count > 0: // flip a bit
                {
                    var i = random.Next(bytes.Count);
                    bytes[i] ^= (byte)(1 << random.Next(8));
                    break;
                }
                case 2 when bytes.Count > 0: // set a byte to an interesting value
                    bytes[random.Next(bytes.Count)] = (byte)(random.Next(3) switch { 0 => 0xFF, 1 => 0x80, _ => random.Next(256) });
                    break;
                case 3: // insert bytes
                {
                    var insert = new byte[random.Next(1, 6)];
                    random.NextBytes(insert);
                    bytes.InsertRange(random.Next(bytes.Count + 1), insert);
                    break;
                }
                case 4 when bytes.Count > 1: // delete a run
                {
                    var at = random.Next(bytes.Count);
                    bytes.RemoveRange(at, Math.Min(random.Next(1, 5), bytes.Count - at));
                    break;
                }
                case 5 when bytes.Count > 2: // a huge varint where a count might be
                {
                    var at = random.Next(bytes.Count);
                    bytes.InsertRange(at, [0xFF, 0xFF, 0xFF, 0xFF, 0x0F]);
                    break;
                }
                default: // duplicate a run (repeats a length or a whole vector)
                    if (bytes.Count > 0)
                    {
                        var at = random.Next(bytes.Count);
                        var run = bytes.GetRange(at, Math.Min(random.Next(1, 16), bytes.Count - at));
                        bytes.InsertRange(at, run);
                    }
                    break;
            }
        }
        return [.. bytes];
    }
}
