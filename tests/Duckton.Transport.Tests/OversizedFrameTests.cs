using System.Buffers.Binary;

namespace Duckton.Transport.Tests;

[CollectionDefinition(nameof(AllocationSensitive), DisableParallelization = true)]
public sealed class AllocationSensitive
{
}

/// <summary>Measures process-wide allocations, so it runs alone.</summary>
[Collection(nameof(AllocationSensitive))]
public sealed class OversizedFrameTests
{
    [Fact]
    public async Task An_oversized_frame_on_the_wire_drops_the_connection_with_a_clear_error()
    {
        using var server = NodeIdentity.Create();
        using var client = NodeIdentity.Create();
        var log = new ListLogger();
        var serverError = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        var allocated = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var listener = await PeerListener.StartAsync(server, Loopback.Any, Loopback.Options(log), async (c, ct) =>
        {
            var before = GC.GetTotalAllocatedBytes(precise: true);
            try
            {
                await c.ReceiveAsync(ct);
            }
            catch (Exception ex)
            {
                allocated.SetResult(GC.GetTotalAllocatedBytes(precise: true) - before);
                serverError.SetResult(ex);
                throw;
            }
        });
        await using var connection = await PeerConnector.ConnectAsync(client, Loopback.Address(listener), server.NodeId, Loopback.Options());
        var header = new byte[6];
        BinaryPrimitives.WriteUInt32LittleEndian(header, 0x7FFF_FFFF);
        header[4] = 1;
        header[5] = (byte)MessageType.Batch;
        await connection.WriteRawForTestsAsync(header);

        var error = Assert.IsType<FrameException>(await serverError.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(FrameError.TooLarge, error.Error);
        Assert.Contains("frame of 2147483647 bytes (Batch) exceeds the limit of 16777216 bytes", error.Message, StringComparison.Ordinal);
        Assert.True(await allocated.Task < 8 << 20, $"allocated {await allocated.Task} bytes");
        await log.WaitForAsync(e => e.Id.Id == 1104);
        // The client sees the connection go away.
        var clientError = await Assert.ThrowsAnyAsync<IOException>(async () => await connection.ReceiveAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.False(connection.IsOpen);
        Assert.NotNull(clientError);
    }

}
