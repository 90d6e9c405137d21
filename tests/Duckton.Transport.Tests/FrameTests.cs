using System.Buffers.Binary;

namespace Duckton.Transport.Tests;

public sealed class FrameTests
{
    private static byte[] Header(uint length, byte version = 1, MessageType type = MessageType.Batch)
    {
        var header = new byte[6];
        BinaryPrimitives.WriteUInt32LittleEndian(header, length);
        header[4] = version;
        header[5] = (byte)type;
        return header;
    }

    [Fact]
    public async Task Frames_round_trip_with_the_documented_byte_layout()
    {
        var stream = new MemoryStream();
        var writer = new FrameWriter(stream);
        await writer.WriteAsync(MessageType.Offer, new byte[] { 0xAA, 0xBB });
        await writer.WriteAsync(MessageType.Ping, ReadOnlyMemory<byte>.Empty);
        var big = Enumerable.Range(0, 200_000).Select(i => (byte)i).ToArray();
        await writer.WriteAsync(MessageType.Batch, big);
        Assert.Equal(new byte[] { 2, 0, 0, 0, 1, 10, 0xAA, 0xBB, 0, 0, 0, 0, 1, 40 }, stream.ToArray()[..14]);

        stream.Position = 0;
        using var reader = new FrameReader(stream);
        var first = await reader.ReadAsync();
        var second = await reader.ReadAsync();
        var third = await reader.ReadAsync();
        Assert.Equal(MessageType.Offer, first.Type);
        Assert.Equal(new byte[] { 0xAA, 0xBB }, first.Payload.ToArray());
        Assert.Equal(MessageType.Ping, second.Type);
        Assert.True(second.Payload.IsEmpty);
        Assert.Equal(big, third.Payload.ToArray());
        // Earlier payloads are not overwritten by later reads.
        Assert.Equal(new byte[] { 0xAA, 0xBB }, first.Payload.ToArray());
        await Assert.ThrowsAsync<EndOfStreamException>(async () => await reader.ReadAsync());
    }

    [Fact]
    public async Task Leased_frames_read_the_same_bytes_into_pooled_buffers()
    {
        var stream = new MemoryStream();
        var writer = new FrameWriter(stream);
        var big = Enumerable.Range(0, 3_000_000).Select(i => (byte)(i * 7)).ToArray();
        await writer.WriteAsync(MessageType.Batch, big);
        await writer.WriteAsync(MessageType.End, ReadOnlyMemory<byte>.Empty);
        stream.Position = 0;
        using var reader = new FrameReader(stream);
        var first = await reader.ReadLeasedAsync();
        Assert.Equal(MessageType.Batch, first.Type);
        Assert.Equal(big, first.Payload.ToArray());
        Assert.Equal(big, first.ToFrame().Payload.ToArray());
        first.Dispose();
        first.Dispose(); // idempotent
        Assert.Throws<ObjectDisposedException>(() => first.Payload);
        using var end = await reader.ReadLeasedAsync();
        Assert.Equal(MessageType.End, end.Type);
        Assert.True(end.Payload.IsEmpty);
        await Assert.ThrowsAsync<EndOfStreamException>(async () => await reader.ReadLeasedAsync());
    }

    [Fact]
    public async Task An_oversized_length_is_refused_before_any_allocation()
    {
        var stream = new MemoryStream([.. Header(0xFFFF_FFF0), .. new byte[100]]);
        using var reader = new FrameReader(stream, 16 << 20);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var ex = await Assert.ThrowsAsync<FrameException>(async () => await reader.ReadAsync());
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(FrameError.TooLarge, ex.Error);
        Assert.Contains("exceeds the limit of 16777216 bytes", ex.Message, StringComparison.Ordinal);
        Assert.True(allocated < 64 * 1024, $"allocated {allocated} bytes");
    }

    [Fact]
    public async Task A_length_within_the_limit_is_not_trusted_until_the_bytes_arrive()
    {
        // Claims 15 MiB, delivers 10 bytes: the reader allocates at most its first 1 MiB chunk.
        var stream = new MemoryStream([.. Header(15 << 20), .. new byte[10]]);
        using var reader = new FrameReader(stream, 16 << 20);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var ex = await Assert.ThrowsAsync<FrameException>(async () => await reader.ReadAsync());
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(FrameError.Truncated, ex.Error);
        Assert.Contains("10 of 15728640 payload bytes", ex.Message, StringComparison.Ordinal);
        Assert.True(allocated < 2 << 20, $"allocated {allocated} bytes");
    }

    [Fact]
    public async Task An_unknown_frame_version_is_refused()
    {
        var stream = new MemoryStream([.. Header(2, version: 2), 1, 2]);
        using var reader = new FrameReader(stream);
        var ex = await Assert.ThrowsAsync<FrameException>(async () => await reader.ReadAsync());
        Assert.Equal(FrameError.UnsupportedVersion, ex.Error);
        Assert.Contains("frame version 2 is not supported", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_truncated_header_is_distinguished_from_a_clean_end()
    {
        using var reader = new FrameReader(new MemoryStream([5, 0, 0]));
        Assert.Equal(FrameError.Truncated, (await Assert.ThrowsAsync<FrameException>(async () => await reader.ReadAsync())).Error);
        using var empty = new FrameReader(new MemoryStream());
        await Assert.ThrowsAsync<EndOfStreamException>(async () => await empty.ReadAsync());
    }

    [Fact]
    public async Task The_writer_refuses_a_payload_over_its_limit_without_writing()
    {
        var stream = new MemoryStream();
        var writer = new FrameWriter(stream, 4096);
        await Assert.ThrowsAsync<ArgumentException>(async () => await writer.WriteAsync(MessageType.Batch, new byte[4097]));
        Assert.Equal(0, stream.Length);
    }

    /// <summary>Counts the writes that reach the stream (each would be one TLS record sequence and one syscall).</summary>
    private sealed class CountingStream : MemoryStream
    {
        public int Writes { get; private set; }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Writes++;
            return base.WriteAsync(buffer, cancellationToken);
        }
    }

    [Fact]
    public async Task Several_small_frames_go_out_in_one_write_and_read_back_in_order()
    {
        var stream = new CountingStream();
        var writer = new FrameWriter(stream, 1 << 20);
        await writer.WriteManyAsync([(MessageType.Commit, new byte[] { 1, 2, 3 }), (MessageType.Batch, new byte[1000]), (MessageType.End, ReadOnlyMemory<byte>.Empty)]);
        Assert.Equal(1, stream.Writes);
        // Over 64 KiB in all: one write per frame (a large frame is itself split into its first record and the rest).
        await writer.WriteManyAsync([(MessageType.Batch, new byte[40_000]), (MessageType.Batch, new byte[40_000])]);
        Assert.Equal(3, stream.Writes);
        Assert.Equal(3 * 6 + 3 + 1000 + 2 * (6 + 40_000), stream.Length);

        stream.Position = 0;
        using var reader = new FrameReader(stream);
        foreach (var (type, length) in new[] { (MessageType.Commit, 3), (MessageType.Batch, 1000), (MessageType.End, 0), (MessageType.Batch, 40_000), (MessageType.Batch, 40_000) })
        {
            var frame = await reader.ReadAsync();
            Assert.Equal(type, frame.Type);
            Assert.Equal(length, frame.Payload.Length);
        }
        Assert.Equal(new byte[] { 1, 2, 3 }, stream.ToArray()[6..9]);

        // One payload over the limit: nothing of the group is written.
        var refused = new CountingStream();
        await Assert.ThrowsAsync<ArgumentException>(async () => await new FrameWriter(refused, 4096).WriteManyAsync([(MessageType.Commit, new byte[10]), (MessageType.Batch, new byte[4097])]));
        Assert.Equal(0, refused.Length);
    }

    [Fact]
    public async Task Fuzz_random_and_mutated_streams_raise_only_frame_errors()
    {
        var random = new Random(20240601);
        var validStream = new MemoryStream();
        var writer = new FrameWriter(validStream);
        for (var i = 0; i < 20; i++)
        {
            var payload = new byte[random.Next(0, i % 5 == 0 ? 70_000 : 300)];
            random.NextBytes(payload);
            await writer.WriteAsync((MessageType)random.Next(256), payload);
        }
        var valid = validStream.ToArray();

        var frames = 0;
        for (var iteration = 0; iteration < 5000; iteration++)
        {
            byte[] input;
            switch (iteration % 4)
            {
                case 0: // pure noise
                    input = new byte[random.Next(0, 512)];
                    random.NextBytes(input);
                    break;
                case 1: // truncation of a valid stream
                    input = valid[..random.Next(0, valid.Length)];
                    break;
                case 2: // bit flips in a valid stream
                    input = (byte[])valid.Clone();
                    for (var f = random.Next(1, 8); f > 0; f--)
                    {
                        input[random.Next(input.Length)] ^= (byte)(1 << random.Next(8));
                    }
                    break;
                default: // a valid prefix followed by noise
                    var cut = random.Next(0, valid.Length);
                    var noise = new byte[random.Next(1, 64)];
                    random.NextBytes(noise);
                    input = [.. valid.AsSpan(0, cut), .. noise];
                    break;
            }
            using var reader = new FrameReader(new OneByteSometimesStream(input, random.Next()), 1 << 20);
            try
            {
                while (true)
                {
                    var frame = await reader.ReadAsync();
                    Assert.True(frame.Payload.Length <= 1 << 20);
                    frames++;
                }
            }
            catch (FrameException)
            {
            }
            catch (EndOfStreamException)
            {
            }
        }
        Assert.True(frames > 1000, $"only {frames} frames decoded; the fuzz corpus is not exercising the happy path");
    }

    [Fact]
    public void Fuzz_handshake_payload_decoders_raise_only_payload_errors()
    {
        var random = new Random(7);
        var hello = HandshakeCodec.EncodeHello(new PeerHello("duckdb-p2p", "1.0.0", "1.0.0", "b3:" + new string('a', 64), "x", "h:1") { MaxFrameBytes = 1 << 20 });
        for (var i = 0; i < 5000; i++)
        {
            byte[] input;
            if (i % 2 == 0)
            {
                input = new byte[random.Next(0, 200)];
                random.NextBytes(input);
            }
            else
            {
                input = (byte[])hello.Clone();
                input[random.Next(input.Length)] = (byte)random.Next(256);
                input = input[..random.Next(0, input.Length + 1)];
            }
            try
            {
                HandshakeCodec.DecodeHello(input);
            }
            catch (PayloadFormatException)
            {
            }
            try
            {
                HandshakeCodec.DecodeReject(input);
            }
            catch (PayloadFormatException)
            {
            }
            try
            {
                HandshakeCodec.DecodeHelloAck(input);
            }
            catch (PayloadFormatException)
            {
            }
        }
    }

    /// <summary>Returns bytes in random short reads, like a socket.</summary>
    private sealed class OneByteSometimesStream(byte[] data, int seed) : MemoryStream(data)
    {
        private readonly Random _random = new(seed);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, _random.Next(1, 3) == 1 ? 1 : buffer.Length)], cancellationToken);
    }
}
