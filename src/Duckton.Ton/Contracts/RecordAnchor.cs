using Duckton.Ton.Addresses;
using Duckton.Ton.Cells;

namespace Duckton.Ton.Contracts;

/// <summary>The anchor's fixed configuration.</summary>
public sealed record AnchorConfig(Coins MinStakeWeight, Coins DisputeBondMin, TonAddress VerdictAuthority, TonAddress Keeper, TonAddress Treasury);

/// <summary>One step of an inclusion proof: the sibling hash and which side it is on.</summary>
public sealed record MerkleStep(bool SiblingIsLeft, byte[] Sibling);

/// <summary>
/// Message bodies, state init and the Merkle scheme of the RecordAnchor singleton. Leaf node = hash of a cell holding
/// the leaf as one uint256; interior node = hash of a cell holding left and right; pairs go left to right and an odd
/// last node is promoted unchanged (adding no proof step).
/// </summary>
public static class RecordAnchor
{
    public const uint OpTopUp = 0x414e4300;
    public const uint OpSubmitRoot = 0x414e4301;
    public const uint OpOpenDispute = 0x414e4302;
    public const uint OpResolveDispute = 0x414e4303;

    public static Cell InitialData(AnchorConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var auth = new CellBuilder().StoreAddress(config.Keeper).StoreAddress(config.Treasury).EndCell();
        var cfg = new CellBuilder().StoreCoins(config.MinStakeWeight).StoreCoins(config.DisputeBondMin).StoreAddress(config.VerdictAuthority)
            .StoreRef(auth).EndCell();
        return new CellBuilder()
            .StoreUInt(0, 32) // currentEpoch
            .StoreBytes(new byte[32]) // lastRoot
            .StoreUInt(0, 32) // nextDisputeId
            .StoreBit(false) // roots
            .StoreBit(false) // disputes
            .StoreRef(cfg)
            .EndCell();
    }

    public static StateInit StateInit(AnchorConfig config) => new(ContractCode.RecordAnchor, InitialData(config));

    public static Cell SubmitRoot(uint epoch, byte[] root, byte[] prevRoot, Coins stakeWeight, ulong queryId = 0) => new CellBuilder()
        .StoreUInt(OpSubmitRoot, 32).StoreUInt(queryId, 64).StoreUInt(epoch, 32)
        .StoreBytes(JobEscrow.Hash32(root, "root")).StoreBytes(JobEscrow.Hash32(prevRoot, "previous root")).StoreCoins(stakeWeight).EndCell();

    /// <summary>Whether <paramref name="body"/> is a root submission for <paramref name="epoch"/>.</summary>
    public static bool IsSubmitRoot(Cell body, uint epoch)
    {
        ArgumentNullException.ThrowIfNull(body);
        var s = body.BeginParse();
        if (s.RemainingBits < 32 + 64 + 32 || s.LoadUInt(32) != OpSubmitRoot)
        {
            return false;
        }
        s.LoadUInt(64);
        return s.LoadUInt(32) == epoch;
    }

    public static Cell OpenDispute(uint epoch, byte[] leaf, IReadOnlyList<MerkleStep> proof, ulong queryId = 0) => new CellBuilder()
        .StoreUInt(OpOpenDispute, 32).StoreUInt(queryId, 64).StoreUInt(epoch, 32).StoreBytes(JobEscrow.Hash32(leaf, "leaf"))
        .StoreMaybeRef(ProofCell(proof)).EndCell();

    public static Cell ResolveDispute(uint disputeId, bool upheld, ulong queryId = 0) => new CellBuilder()
        .StoreUInt(OpResolveDispute, 32).StoreUInt(queryId, 64).StoreUInt(disputeId, 32).StoreBit(upheld).EndCell();

    /// <summary>The proof chain: the step nearest the leaf is the outermost cell; null for an empty proof.</summary>
    public static Cell? ProofCell(IReadOnlyList<MerkleStep> proof)
    {
        ArgumentNullException.ThrowIfNull(proof);
        Cell? next = null;
        for (var i = proof.Count - 1; i >= 0; i--)
        {
            next = new CellBuilder().StoreBit(proof[i].SiblingIsLeft).StoreBytes(JobEscrow.Hash32(proof[i].Sibling, "sibling"))
                .StoreMaybeRef(next).EndCell();
        }
        return next;
    }

    public static byte[] LeafNode(byte[] leaf) => new CellBuilder().StoreBytes(JobEscrow.Hash32(leaf, "leaf")).EndCell().HashBytes();

    public static byte[] InteriorNode(byte[] left, byte[] right) => new CellBuilder().StoreBytes(left).StoreBytes(right).EndCell().HashBytes();

    /// <summary>
    /// The root over <paramref name="leaves"/> and the inclusion proof of leaf <paramref name="index"/>: the node's own
    /// record tree (<see cref="Duckton.Core.Records.RecordTree"/>), whose SHA-256 node hashes are the cell hashes the
    /// contract computes (<see cref="LeafNode"/>, <see cref="InteriorNode"/> build those cells; the vector tests check both agree).
    /// </summary>
    public static (byte[] Root, IReadOnlyList<MerkleStep> Proof) Tree(IReadOnlyList<byte[]> leaves, int index)
    {
        ArgumentNullException.ThrowIfNull(leaves);
        if (leaves.Count == 0 || index < 0 || index >= leaves.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(index));
        }
        var (root, proof) = Duckton.Core.Records.RecordTree.Prove(leaves, index);
        return (root, proof.Select(s => new MerkleStep(s.SiblingIsLeft, s.Sibling)).ToList());
    }
}
