using System.Buffers;
using Duckton.Core.Data;

namespace Duckton.Core.Tests.Data;

public sealed class SpooledBatchesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("duckton-spill-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] Encode(ResultBatch batch)
    {
        var buffer = new ArrayBufferWriter<byte>();
        BatchCodec.EncodeBatch(batch, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    [Fact]
    public void Leftovers_of_a_killed_process_are_removed_and_a_live_spill_keeps_its_rows()
    {
        // A spill file a SIGKILLed process never closed, and an unrelated file that must stay.
        File.WriteAllBytes(Path.Combine(_dir, "spill-0123456789abcdef01234567.bin"), [1, 2, 3]);
        File.WriteAllText(Path.Combine(_dir, "notes.txt"), "keep");
        var batch = SampleBatches.Single("i", SampleBatches.Ints(1, 2, null, 4));
        using var live = new SpooledBatches(batch.Schema, memoryBudget: 0, _dir);
        live.Add(batch, Encode(batch));
        live.Add(batch, Encode(batch));
        Assert.True(live.Spilled);

        var removed = SpooledBatches.RemoveLeftovers(_dir);

        Assert.Equal(OperatingSystem.IsWindows() ? 1 : 2, removed); // on Unix the live file's name goes too, its data stays
        Assert.True(File.Exists(Path.Combine(_dir, "notes.txt")));
        Assert.Equal(2, live.Count);
        Assert.Null(BatchComparer.Difference(batch, live[1]));
        Assert.Equal(0, SpooledBatches.RemoveLeftovers(Path.Combine(_dir, "missing")));
    }
}
