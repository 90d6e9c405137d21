using Duckton.Ton.Cells;
using FsCheck;
using FsCheck.Fluent;

namespace Duckton.Ton.Tests;

public class BagOfCellsTests
{
    private static readonly Config s_config = Config.QuickThrowOnFailure.WithMaxTest(200).WithQuietOnSuccess(true);

    /// <summary>A random cell tree from a seed: random bit lengths (0..1023), up to 4 references, shared subtrees.</summary>
    internal static Cell RandomTree(Random rng, int depth, List<Cell> pool)
    {
        if (pool.Count > 0 && rng.Next(4) == 0)
        {
            return pool[rng.Next(pool.Count)];
        }
        var b = new CellBuilder();
        var bits = rng.Next(3) == 0 ? rng.Next(9) : rng.Next(Cell.MaxBits + 1);
        var data = new byte[(bits + 7) / 8];
        rng.NextBytes(data);
        b.StoreBits(data, bits);
        var refs = depth > 0 ? rng.Next(Cell.MaxRefs + 1) : 0;
        for (var i = 0; i < refs; i++)
        {
            b.StoreRef(RandomTree(rng, depth - 1, pool));
        }
        var cell = b.EndCell();
        pool.Add(cell);
        return cell;
    }

    private static Arbitrary<(int Seed, int Depth)> Trees =>
        (from seed in Gen.Choose(0, int.MaxValue) from depth in Gen.Choose(0, 6) select (seed, depth)).ToArbitrary();

    [Fact]
    public void Any_cell_tree_round_trips_through_a_bag_with_any_options()
    {
        Check.One(s_config, Prop.ForAll(Trees, t =>
        {
            var cell = RandomTree(new Random(t.Seed), t.Depth, []);
            foreach (var (crc, idx) in new[] { (true, false), (false, false), (true, true), (false, true) })
            {
                var bytes = BagOfCells.Serialize(cell, crc, idx);
                var back = BagOfCells.ParseSingle(bytes);
                Assert.Equal(cell.HashHex, back.HashHex);
                Assert.Equal(cell.Depth, back.Depth);
                // Serialising the parsed cell gives the same bytes again (the order is canonical).
                Assert.Equal(bytes, BagOfCells.Serialize(back, crc, idx));
            }
        }));
    }

    [Fact]
    public void Shared_subtrees_are_stored_once()
    {
        var leaf = new CellBuilder().StoreUInt(0xABCD, 16).EndCell();
        var root = new CellBuilder().StoreRef(leaf).StoreRef(leaf).StoreRef(new CellBuilder().StoreRef(leaf).EndCell()).EndCell();
        var bytes = BagOfCells.Serialize(root);
        Assert.Equal(3, bytes[6]); // cell count: root, middle, leaf
        Assert.Equal(root, BagOfCells.ParseSingle(bytes));
    }

    [Fact]
    public void Every_truncation_of_a_bag_is_refused_with_a_clear_error()
    {
        var cell = RandomTree(new Random(7), 3, []);
        foreach (var crc in new[] { true, false })
        {
            var bytes = BagOfCells.Serialize(cell, withCrc32C: crc);
            for (var len = 0; len < bytes.Length; len++)
            {
                var e = Assert.Throws<TonFormatException>(() => BagOfCells.Parse(bytes.AsSpan(0, len)));
                Assert.StartsWith("bag of cells:", e.Message);
            }
        }
    }

    [Fact]
    public void A_flipped_bit_is_caught_by_the_crc()
    {
        var bytes = BagOfCells.Serialize(RandomTree(new Random(11), 2, []));
        for (var i = 0; i < bytes.Length * 8; i += 7)
        {
            var copy = (byte[])bytes.Clone();
            copy[i / 8] ^= (byte)(1 << (i % 8));
            var e = Assert.Throws<TonFormatException>(() => BagOfCells.Parse(copy));
            Assert.True(e.Message.Contains("CRC32C mismatch", StringComparison.Ordinal) || e.Message.Contains("magic", StringComparison.Ordinal)
                || i / 8 == 4, e.Message);
        }
    }

    [Fact]
    public void Wrong_crc_is_named()
    {
        var bytes = BagOfCells.Serialize(new CellBuilder().StoreUInt(1, 8).EndCell());
        bytes[^1] ^= 0xFF;
        Assert.Contains("CRC32C mismatch", Assert.Throws<TonFormatException>(() => BagOfCells.Parse(bytes)).Message);
    }

    [Fact]
    public void Malformed_headers_and_cells_are_refused()
    {
        var good = BagOfCells.Serialize(new CellBuilder().StoreUInt(5, 8).StoreRef(Cell.Empty).EndCell(), withCrc32C: false);
        // good: b5ee9c72 | 01 | 01 | 02 cells | 01 root | 00 absent | size | 00 root idx | cells...
        Assert.Contains("bad magic", Refuse(Patch(good, 0, 0x00)));
        Assert.Contains("reference size", Refuse(Patch(good, 4, 0x00)));
        Assert.Contains("offset size", Refuse(Patch(good, 5, 0x00)));
        Assert.Contains("cells is outside", Refuse(Patch(good, 6, 0x00)));
        Assert.Contains("roots for", Refuse(Patch(good, 7, 0x05)));
        Assert.Contains("absent", Refuse(Patch(good, 8, 0x01)));
        Assert.Contains("trailing", Refuse([.. good, 0x00]));
        Assert.Contains("exotic", Refuse(Patch(good, 11, (byte)(good[11] | 8))));
        Assert.Contains("non-zero level", Refuse(Patch(good, 11, (byte)(good[11] | 32))));
        Assert.Contains("stored hashes", Refuse(Patch(good, 11, (byte)(good[11] | 16))));
        // The root's reference pointing back at itself (a cycle).
        Assert.Contains("not after it", Refuse(Patch(good, 14, 0x00)));
        Assert.Contains("5 references", Refuse(Patch(good, 11, 5)));
        // Padding flag with a zero last byte: no completion bit.
        var padded = BagOfCells.Serialize(new CellBuilder().StoreUInt(1, 3).EndCell(), withCrc32C: false);
        Assert.Contains("completion bit", Refuse(Patch(padded, padded.Length - 1, 0x00)));
    }

    [Fact]
    public void Size_and_depth_bounds_are_enforced()
    {
        var chain = Cell.Empty;
        for (var i = 0; i < Cell.MaxDepth; i++)
        {
            chain = new CellBuilder().StoreRef(chain).EndCell();
        }
        Assert.Equal(Cell.MaxDepth, chain.Depth);
        Assert.Contains("deeper than 1024", Assert.Throws<TonFormatException>(() => new CellBuilder().StoreRef(chain).EndCell()).Message);
        var bytes = BagOfCells.Serialize(chain);
        Assert.Equal(chain, BagOfCells.ParseSingle(bytes));
        Assert.Contains("cells is outside", Assert.Throws<TonFormatException>(() => BagOfCells.Parse(bytes, new BocLimits(MaxCells: 100))).Message);
        Assert.Contains("exceeds the limit", Assert.Throws<TonFormatException>(() => BagOfCells.Parse(bytes, new BocLimits(MaxBytes: 100))).Message);
        Assert.Contains("cell overflow", Assert.Throws<TonFormatException>(() => new CellBuilder().StoreBits(new byte[128], 1024)).Message);
        var full = new CellBuilder();
        for (var i = 0; i < 4; i++)
        {
            full.StoreRef(Cell.Empty);
        }
        Assert.Throws<TonFormatException>(() => full.StoreRef(Cell.Empty));
    }

    [Fact]
    public void Reading_past_the_end_of_a_cell_names_what_was_missing()
    {
        var slice = new CellBuilder().StoreUInt(3, 4).EndCell().BeginParse();
        Assert.Contains("expected uint32, only 4 bits left", Assert.Throws<TonFormatException>(() => slice.LoadUInt(32)).Message);
        Assert.Contains("expected a reference", Assert.Throws<TonFormatException>(() => slice.LoadRef()).Message);
        Assert.Contains("trailing data", Assert.Throws<TonFormatException>(slice.EndParse).Message);
    }

    [Fact]
    public void Integers_refuse_values_that_do_not_fit()
    {
        Assert.Throws<TonFormatException>(() => new CellBuilder().StoreUInt(256, 8));
        Assert.Throws<TonFormatException>(() => new CellBuilder().StoreInt(128, 8));
        Assert.Throws<TonFormatException>(() => new CellBuilder().StoreInt(-129, 8));
        Assert.Throws<TonFormatException>(() => new CellBuilder().StoreBigUInt(-1, 8));
        var s = new CellBuilder().StoreInt(-5, 8).StoreInt(long.MinValue, 64).StoreBigInt(-1, 257).EndCell().BeginParse();
        Assert.Equal(-5, s.LoadInt(8));
        Assert.Equal(long.MinValue, s.LoadInt(64));
        Assert.Equal(-1, s.LoadBigInt(257));
    }

    private static byte[] Patch(byte[] bytes, int at, byte value)
    {
        var copy = (byte[])bytes.Clone();
        copy[at] = value;
        return copy;
    }

    private static string Refuse(byte[] bytes) => Assert.Throws<TonFormatException>(() => BagOfCells.Parse(bytes)).Message;
}
