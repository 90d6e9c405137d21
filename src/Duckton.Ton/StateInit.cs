using Duckton.Ton.Addresses;
using Duckton.Ton.Cells;

namespace Duckton.Ton;

/// <summary>
/// A contract's initial code and data. Its cell hash is the contract's account id, so an address is known (and can be
/// checked) before anything is deployed.
/// </summary>
public sealed record StateInit(Cell Code, Cell Data)
{
    /// <summary>TL-B <c>StateInit</c>: no split depth, not special, code and data present, no libraries.</summary>
    public Cell ToCell() => new CellBuilder()
        .StoreBit(false)
        .StoreBit(false)
        .StoreMaybeRef(Code)
        .StoreMaybeRef(Data)
        .StoreBit(false)
        .EndCell();

    public TonAddress Address(int workchain = 0) => new(workchain, ToCell().Hash);

    internal void StoreInline(CellBuilder builder) => builder.StoreCellInline(ToCell());
}
