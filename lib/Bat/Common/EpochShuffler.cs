namespace Bat;

/// <summary>
/// The one way rows are shuffled for training: a stream of row indices made of epoch-wise permutations of
/// <c>count</c> rows; position p of the stream is row <c>Order(p / count)[p % count]</c>. Each user says how an
/// epoch's permutation is drawn (which generator, which seed), so that a run's order depends only on its seed:
/// pre-training draws each epoch from (seed, epoch) so that a resumed run replays it, the probes draw the epochs
/// one after the other from one generator, the spectrogram loader from (seed, epoch). Positions must be asked for
/// in increasing epoch order when the permutations come from one generator in sequence.
/// </summary>
public sealed class EpochShuffler
{
    readonly int count;
    readonly Action<long, int[]> shuffle;
    (long Epoch, int[] Order) current = (-1, []);

    /// <param name="shuffle">permutes the identity order 0..count-1 of an epoch in place</param>
    public EpochShuffler(int count, Action<long, int[]> shuffle)
    {
        if (count <= 0) throw new InvalidOperationException("cannot shuffle an empty set of rows");
        this.count = count;
        this.shuffle = shuffle;
    }

    /// <summary>The row order of one epoch (the caller must not change it).</summary>
    public int[] Order(long epoch)
    {
        if (current.Epoch != epoch)
        {
            var order = Enumerable.Range(0, count).ToArray();
            shuffle(epoch, order);
            current = (epoch, order);
        }
        return current.Order;
    }

    /// <summary>The rows at stream positions first .. first + size - 1 (a batch may span two epochs).</summary>
    public int[] Batch(long first, int size)
    {
        var rows = new int[size];
        for (int j = 0; j < size; j++)
        {
            long position = first + j;
            rows[j] = Order(position / count)[position % count];
        }
        return rows;
    }
}
