using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Duckton.Core.Hashing;

/// <summary>The inputs of a node's last compression: enough to produce its chaining value or, at the root, any output length.</summary>
internal struct Blake3Output
{
    public Words8 InputCv;
    public Words16 Block;
    public ulong Counter;
    public uint BlockLen;
    public uint Flags;

    public readonly void ChainingValue(out Words8 cv)
    {
        cv = InputCv;
        Blake3Scalar.Compress(ref cv, in Block, Counter, BlockLen, Flags);
    }

    /// <summary>Root output bytes starting at byte <paramref name="position"/> of the extended output stream.</summary>
    public readonly void RootBytes(ulong position, Span<byte> destination)
    {
        var blockIndex = position / Blake3Spec.BlockLen;
        var skip = (int)(position % Blake3Spec.BlockLen);
        Span<byte> bytes = stackalloc byte[Blake3Spec.BlockLen];
        while (!destination.IsEmpty)
        {
            Blake3Scalar.CompressXof(in InputCv, in Block, blockIndex, BlockLen, Flags | Blake3Spec.Root, out var words);
            Blake3Spec.WriteWords(words, bytes);
            var take = Math.Min(Blake3Spec.BlockLen - skip, destination.Length);
            bytes.Slice(skip, take).CopyTo(destination);
            destination = destination[take..];
            skip = 0;
            blockIndex++;
        }
    }

    public static Blake3Output ParentNode(ReadOnlySpan<uint> left, ReadOnlySpan<uint> right, ref readonly Words8 key, uint flags)
    {
        var output = new Blake3Output { InputCv = key, Counter = 0, BlockLen = Blake3Spec.BlockLen, Flags = flags | Blake3Spec.Parent };
        Span<uint> block = output.Block;
        left[..8].CopyTo(block);
        right[..8].CopyTo(block[8..]);
        return output;
    }
}

/// <summary>The stack of subtree chaining values waiting to be merged (spec §5.1.2), one per set bit of the chunk count.</summary>
[InlineArray(Blake3Spec.MaxDepth * 8)]
internal struct CvStackWords
{
    private uint _element0;
}

/// <summary>
/// The complete incremental BLAKE3 state as a value type, so one-shot hashing of large inputs runs on the
/// stack without allocating; <see cref="Blake3Hasher"/> wraps one.
/// </summary>
internal struct Blake3Core
{
    /// <summary>
    /// Largest subtree hashed in one go (chunks). Inside it every level is compressed lanes-parallel;
    /// above it parents are merged one at a time, which is 1 compression per 128 chunks.
    /// </summary>
    private const int MaxSubtreeChunks = 128;

    private readonly Words8 _key;
    private readonly uint _flags;
    private readonly int _maxLanes;

    // Current chunk.
    private Words8 _chunkCv;
    private ulong _chunkCounter;
    private Words16 _blockBuffer;
    private int _blockLen;
    private int _blocksCompressed;

    private CvStackWords _stack;
    private int _stackLen;

    public Blake3Core(ref readonly Words8 key, uint flags, int maxLanes)
    {
        _key = key;
        _flags = flags;
        _maxLanes = maxLanes;
        _chunkCv = key;
    }

    public void Reset()
    {
        _chunkCv = _key;
        _chunkCounter = 0;
        _blockBuffer = default;
        _blockLen = 0;
        _blocksCompressed = 0;
        _stackLen = 0;
    }

    private readonly int ChunkBytes => (_blocksCompressed * Blake3Spec.BlockLen) + _blockLen;

    private readonly uint ChunkStartFlag => _blocksCompressed == 0 ? Blake3Spec.ChunkStart : 0;

    public void Update(ReadOnlySpan<byte> input)
    {
        if (ChunkBytes > 0)
        {
            var take = Math.Min(Blake3Spec.ChunkLen - ChunkBytes, input.Length);
            ChunkUpdate(input[..take]);
            input = input[take..];
            if (input.IsEmpty)
            {
                return;
            }
            // The chunk is full and more input follows, so it is not the root.
            ChunkOutput().ChainingValue(out var cv);
            PushCv(cv, _chunkCounter);
            _chunkCounter++;
            ResetChunk();
        }

        // Whole subtrees, always leaving at least one byte behind so none of them can be the root.
        while (input.Length > Blake3Spec.ChunkLen)
        {
            var wholeChunks = (ulong)(input.Length - 1) / Blake3Spec.ChunkLen;
            var chunks = Math.Min(1UL << BitOperations.Log2(wholeChunks), MaxSubtreeChunks);
            while ((_chunkCounter & (chunks - 1)) != 0)
            {
                chunks >>= 1; // a subtree must start at a multiple of its size
            }
            var bytes = (int)chunks * Blake3Spec.ChunkLen;
            SubtreeCv(input[..bytes], _chunkCounter, (int)chunks, out var cv);
            PushCv(cv, _chunkCounter);
            _chunkCounter += chunks;
            input = input[bytes..];
        }

        if (!input.IsEmpty)
        {
            ChunkUpdate(input);
            // With input in the current chunk nothing on the stack can be the root: merge eagerly.
            MergeStack(_chunkCounter);
        }
    }

    public readonly void Finalize(ulong position, Span<byte> destination) => FinalOutput().RootBytes(position, destination);

    private readonly Blake3Output FinalOutput()
    {
        if (_stackLen == 0)
        {
            return ChunkOutput();
        }
        var remaining = _stackLen;
        Blake3Output output;
        if (ChunkBytes > 0)
        {
            output = ChunkOutput();
        }
        else
        {
            output = Blake3Output.ParentNode(StackEntry(remaining - 2), StackEntry(remaining - 1), in _key, _flags);
            remaining -= 2;
        }
        while (remaining > 0)
        {
            output.ChainingValue(out var right);
            output = Blake3Output.ParentNode(StackEntry(remaining - 1), right, in _key, _flags);
            remaining--;
        }
        return output;
    }

    [UnscopedRef]
    private readonly ReadOnlySpan<uint> StackEntry(int index) => ((ReadOnlySpan<uint>)_stack).Slice(index * 8, 8);

    private void ChunkUpdate(ReadOnlySpan<byte> input)
    {
        Span<byte> buffer = MemoryMarshal.AsBytes((Span<uint>)_blockBuffer);
        while (!input.IsEmpty)
        {
            if (_blockLen == Blake3Spec.BlockLen)
            {
                // A full buffered block with more input behind it cannot be the chunk's last block.
                CompressBuffered();
            }
            if (_blockLen == 0 && input.Length > Blake3Spec.BlockLen)
            {
                Blake3Scalar.LoadBlock(input[..Blake3Spec.BlockLen], out var block);
                Blake3Scalar.Compress(ref _chunkCv, in block, _chunkCounter, Blake3Spec.BlockLen, _flags | ChunkStartFlag);
                _blocksCompressed++;
                input = input[Blake3Spec.BlockLen..];
                continue;
            }
            var take = Math.Min(Blake3Spec.BlockLen - _blockLen, input.Length);
            input[..take].CopyTo(buffer[_blockLen..]);
            _blockLen += take;
            input = input[take..];
        }
    }

    private void CompressBuffered()
    {
        FixEndianness(ref _blockBuffer);
        Blake3Scalar.Compress(ref _chunkCv, in _blockBuffer, _chunkCounter, Blake3Spec.BlockLen, _flags | ChunkStartFlag);
        _blocksCompressed++;
        _blockLen = 0;
        _blockBuffer = default;
    }

    private static void FixEndianness(ref Words16 block)
    {
        if (!BitConverter.IsLittleEndian)
        {
            for (var i = 0; i < 16; i++)
            {
                block[i] = System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(block[i]);
            }
        }
    }

    private readonly Blake3Output ChunkOutput()
    {
        var output = new Blake3Output
        {
            InputCv = _chunkCv,
            Block = _blockBuffer, // bytes past _blockLen are still zero
            Counter = _chunkCounter,
            BlockLen = (uint)_blockLen,
            Flags = _flags | ChunkStartFlag | Blake3Spec.ChunkEnd,
        };
        FixEndianness(ref output.Block);
        return output;
    }

    private void ResetChunk()
    {
        _chunkCv = _key;
        _blockBuffer = default;
        _blockLen = 0;
        _blocksCompressed = 0;
    }

    private void PushCv(ReadOnlySpan<uint> cv, ulong chunkCounter)
    {
        MergeStack(chunkCounter);
        cv[..8].CopyTo(((Span<uint>)_stack).Slice(_stackLen * 8, 8));
        _stackLen++;
    }

    /// <summary>
    /// Lazily merges completed subtrees: after <paramref name="totalChunks"/> chunks the stack holds one
    /// entry per set bit of that count (spec §5.1.2).
    /// </summary>
    private void MergeStack(ulong totalChunks)
    {
        var target = BitOperations.PopCount(totalChunks);
        while (_stackLen > target)
        {
            var parent = Blake3Output.ParentNode(StackEntry(_stackLen - 2), StackEntry(_stackLen - 1), in _key, _flags);
            parent.ChainingValue(out var cv);
            _stackLen -= 2;
            ((ReadOnlySpan<uint>)cv).CopyTo(((Span<uint>)_stack).Slice(_stackLen * 8, 8));
            _stackLen++;
        }
    }

    /// <summary>The chaining value of a complete, non-root subtree of <paramref name="chunks"/> (a power of two) chunks.</summary>
    [SkipLocalsInit] // both buffers are written before they are read
    private readonly unsafe void SubtreeCv(ReadOnlySpan<byte> input, ulong counter, int chunks, out Words8 cv)
    {
        // Leaves: every chunk lanes-parallel. Then each level of parents, also lanes-parallel, ping-ponging
        // between two buffers until one chaining value is left.
        var a = stackalloc byte[MaxSubtreeChunks * Blake3Spec.OutLen];
        var b = stackalloc byte[MaxSubtreeChunks / 2 * Blake3Spec.OutLen];
        fixed (byte* p = input)
        {
            Blake3Lanes.HashMany(p, Blake3Spec.ChunkLen, Blake3Spec.ChunkLen / Blake3Spec.BlockLen, chunks, counter, true,
                in _key, _flags, Blake3Spec.ChunkStart, Blake3Spec.ChunkEnd, a, _maxLanes);
        }
        var count = chunks;
        while (count > 1)
        {
            // A parent's block is its two children's chaining values, which already sit side by side.
            Blake3Lanes.HashMany(a, Blake3Spec.BlockLen, 1, count / 2, 0, false, in _key, _flags | Blake3Spec.Parent, 0, 0, b, _maxLanes);
            count /= 2;
            var swap = a;
            a = b;
            b = swap;
        }
        cv = default;
        new ReadOnlySpan<byte>(a, Blake3Spec.OutLen).CopyTo(MemoryMarshal.AsBytes((Span<uint>)cv));
        FixEndianness8(ref cv);
    }

    private static void FixEndianness8(ref Words8 cv)
    {
        if (!BitConverter.IsLittleEndian)
        {
            for (var i = 0; i < 8; i++)
            {
                cv[i] = System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(cv[i]);
            }
        }
    }

    /// <summary>The complete hash of an input of at most one chunk: its single chunk is the root.</summary>
    public static void HashSingleChunk(ReadOnlySpan<byte> input, ref readonly Words8 key, uint flags, Span<byte> output) =>
        SingleChunkOutput(input, in key, flags).RootBytes(0, output);

    private static Blake3Output SingleChunkOutput(ReadOnlySpan<byte> input, ref readonly Words8 key, uint flags)
    {
        var cv = key;
        var blocks = 0;
        while (input.Length > Blake3Spec.BlockLen)
        {
            Blake3Scalar.LoadBlock(input[..Blake3Spec.BlockLen], out var block);
            Blake3Scalar.Compress(ref cv, in block, 0, Blake3Spec.BlockLen, flags | (blocks == 0 ? Blake3Spec.ChunkStart : 0));
            blocks++;
            input = input[Blake3Spec.BlockLen..];
        }
        var output = new Blake3Output
        {
            InputCv = cv,
            Counter = 0,
            BlockLen = (uint)input.Length,
            Flags = flags | (blocks == 0 ? Blake3Spec.ChunkStart : 0) | Blake3Spec.ChunkEnd,
        };
        Blake3Scalar.LoadBlock(input, out output.Block);
        return output;
    }
}
