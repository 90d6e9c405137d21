using System.Security.Cryptography;

namespace Duckton.Core.Records;

/// <summary>One step of an inclusion proof, from the leaf upward: the sibling hash and whether it sits on the left.</summary>
public sealed record ProofStep(bool SiblingIsLeft, byte[] Sibling);

/// <summary>
/// The Merkle tree over an epoch's raw leaves, exactly as the RecordAnchor contract folds it, so a proof built here is
/// accepted by the chain: leaf node = SHA-256(0x00 0x40 ‖ leaf), interior node = SHA-256(0x00 0x80 ‖ left ‖ right)
/// (the TON representation hashes of a cell holding one and two uint256; the different descriptor bytes separate
/// leaves from interior nodes). Pairs go left to right; an odd last node is promoted unchanged and adds no proof step.
/// An empty tree has no root.
/// </summary>
internal static class RecordTree
{
    /// <summary>Deepest proof the contract folds (its MAX_MERKLE_PROOF_DEPTH).</summary>
    public const int MaxDepth = 32;

    public static byte[] LeafNode(ReadOnlySpan<byte> leaf)
    {
        Need32(leaf, "leaf");
        Span<byte> buf = stackalloc byte[34];
        buf[0] = 0x00;
        buf[1] = 0x40;
        leaf.CopyTo(buf[2..]);
        return SHA256.HashData(buf);
    }

    public static byte[] InteriorNode(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        Need32(left, "left node");
        Need32(right, "right node");
        Span<byte> buf = stackalloc byte[66];
        buf[0] = 0x00;
        buf[1] = 0x80;
        left.CopyTo(buf[2..]);
        right.CopyTo(buf[34..]);
        return SHA256.HashData(buf);
    }

    /// <summary>The root over <paramref name="leaves"/> (raw leaves, in order).</summary>
    public static byte[] Root(IReadOnlyList<byte[]> leaves) => Build(leaves, -1).Root;

    /// <summary>The root and the proof of leaf <paramref name="index"/>.</summary>
    public static (byte[] Root, IReadOnlyList<ProofStep> Proof) Prove(IReadOnlyList<byte[]> leaves, int index)
    {
        ArgumentNullException.ThrowIfNull(leaves);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, leaves.Count);
        return Build(leaves, index);
    }

    private static (byte[] Root, IReadOnlyList<ProofStep> Proof) Build(IReadOnlyList<byte[]> leaves, int index)
    {
        ArgumentNullException.ThrowIfNull(leaves);
        if (leaves.Count == 0)
        {
            throw new ArgumentException("an empty epoch has no root");
        }
        var level = leaves.Select(l => LeafNode(l)).ToList();
        var proof = new List<ProofStep>();
        var at = index;
        while (level.Count > 1)
        {
            var next = new List<byte[]>((level.Count + 1) / 2);
            for (var i = 0; i < level.Count; i += 2)
            {
                if (i + 1 == level.Count)
                {
                    next.Add(level[i]);
                    continue;
                }
                next.Add(InteriorNode(level[i], level[i + 1]));
                if (at == i)
                {
                    proof.Add(new ProofStep(false, level[i + 1]));
                }
                else if (at == i + 1)
                {
                    proof.Add(new ProofStep(true, level[i]));
                }
            }
            at /= 2;
            level = next;
        }
        return (level[0], proof);
    }

    /// <summary>Folds <paramref name="proof"/> from the raw leaf up (what the contract's compute_root does).</summary>
    public static byte[] Fold(ReadOnlySpan<byte> leaf, IReadOnlyList<ProofStep> proof)
    {
        ArgumentNullException.ThrowIfNull(proof);
        if (proof.Count > MaxDepth)
        {
            throw new ArgumentException($"a proof has at most {MaxDepth} steps");
        }
        var h = LeafNode(leaf);
        foreach (var s in proof)
        {
            h = s.SiblingIsLeft ? InteriorNode(s.Sibling, h) : InteriorNode(h, s.Sibling);
        }
        return h;
    }

    /// <summary>
    /// The sides of the siblings a proof of leaf <paramref name="index"/> among <paramref name="count"/> must have, from the
    /// leaf up (true = left): binds a proof to its position, so a proof cannot claim another index or tree size.
    /// </summary>
    public static IReadOnlyList<bool> ExpectedSides(long index, long count)
    {
        if (count < 1 || index < 0 || index >= count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), $"leaf index {index} is not within a tree of {count} leaves");
        }
        var sides = new List<bool>();
        while (count > 1)
        {
            var promoted = index == count - 1 && count % 2 == 1;
            if (!promoted)
            {
                sides.Add(index % 2 == 1);
            }
            index /= 2;
            count = (count + 1) / 2;
        }
        return sides;
    }

    private static void Need32(ReadOnlySpan<byte> b, string what)
    {
        if (b.Length != 32)
        {
            throw new ArgumentException($"the {what} must be 32 bytes");
        }
    }
}

/// <summary>What a RecordAnchor contract holds now: its newest anchored epoch (0 = none) and that epoch's root (32 zero bytes = none).</summary>
public sealed record AnchorChainState(uint CurrentEpoch, byte[] LastRoot);

/// <summary>
/// Where a keeper anchors sealed epoch roots (the chain, through Duckton.Ton's <c>ChainEpochAnchor</c>). Epochs go in
/// strictly one above the anchored one, each chained to the previous root.
/// </summary>
public interface IEpochAnchor
{
    /// <summary>The network name recorded with each anchor (local, testnet, mainnet).</summary>
    string Network { get; }

    Task<AnchorChainState> StateAsync(CancellationToken cancellationToken = default);

    /// <summary>Submits <paramref name="root"/> as <paramref name="epoch"/> (= current + 1) after <paramref name="previousRoot"/>, waits for it, returns where it is.</summary>
    Task<AnchorReference> AnchorAsync(uint epoch, byte[] root, byte[] previousRoot, CancellationToken cancellationToken = default);

    /// <summary>
    /// Where the chain already holds <paramref name="root"/> as <paramref name="epoch"/>, sent by this keeper: a submission
    /// whose confirmation an earlier run did not wait for (it stopped or crashed meanwhile). Null when the chain holds
    /// another root or none for that epoch, or when the transaction that stored it can no longer be found.
    /// </summary>
    Task<AnchorReference?> FindAnchoredAsync(uint epoch, byte[] root, CancellationToken cancellationToken = default);
}
