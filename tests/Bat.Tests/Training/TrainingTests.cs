using Bat.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Bat.Tests.Training;

/// <summary>The training parts pre-training, the probes and fine-tuning share.</summary>
public class TrainingTests
{
    [Fact]
    public void AdamWMatchesTorchAdamW()
    {
        manual_seed(5);
        var w0 = randn(3, 4); var b0 = randn(4);
        var mine = new[] { new TorchSharp.Modules.Parameter(w0.clone()), new TorchSharp.Modules.Parameter(b0.clone()) };
        var theirs = new[] { new TorchSharp.Modules.Parameter(w0.clone()), new TorchSharp.Modules.Parameter(b0.clone()) };
        using var adam = new AdamW([("w", mine[0]), ("b", mine[1])], 0.9, 0.95, 1e-8, 0.05);
        // torch: weight decay on the matrix, none on the vector.
        var torchW = optim.AdamW([theirs[0]], 1e-2, 0.9, 0.95, 1e-8, 0.05);
        var torchB = optim.AdamW([theirs[1]], 1e-2, 0.9, 0.95, 1e-8, 0.0);
        for (int step = 0; step < 3; step++)
        {
            using var x = randn(5, 3);
            foreach (var (ps, isMine) in new[] { (mine, true), (theirs, false) })
            {
                using var loss = matmul(x, ps[0]).add(ps[1]).square().sum();
                if (isMine) adam.ZeroGrad(); else { torchW.zero_grad(); torchB.zero_grad(); }
                loss.backward();
                if (isMine) adam.Step(1e-2); else { torchW.step(); torchB.step(); }
            }
        }
        Assert.True(mine[0].sub(theirs[0]).abs().max().item<float>() < 1e-6);
        Assert.True(mine[1].sub(theirs[1]).abs().max().item<float>() < 1e-6);
    }

    [Fact]
    public void LearningRateWarmsUpThenFollowsACosineToTheFloor()
    {
        Assert.Equal(0.1, LearningRateSchedule.WarmupCosine(0, 1.0, 10, 110), 12);
        Assert.Equal(1.0, LearningRateSchedule.WarmupCosine(9, 1.0, 10, 110), 12);
        Assert.Equal(1.0, LearningRateSchedule.WarmupCosine(10, 1.0, 10, 110), 12);
        Assert.Equal(0.5, LearningRateSchedule.WarmupCosine(60, 1.0, 10, 110), 12);
        Assert.Equal(0.0, LearningRateSchedule.WarmupCosine(110, 1.0, 10, 110), 12);
        // With a floor: halfway down is the middle between peak and floor, the end is the floor.
        Assert.Equal(0.55, LearningRateSchedule.WarmupCosine(60, 1.0, 10, 110, floor: 0.1), 12);
        Assert.Equal(0.1, LearningRateSchedule.WarmupCosine(110, 1.0, 10, 110, floor: 0.1), 12);
    }

    [Fact]
    public void ShufflerStreamsEpochPermutationsAcrossBatchBoundaries()
    {
        // Reversal stands in for a random permutation, so the stream is known by hand: epoch 0 = 4 3 2 1 0, epoch 1 the same.
        var shuffler = new EpochShuffler(5, (_, order) => Array.Reverse(order));
        Assert.Equal([4, 3, 2], shuffler.Batch(0, 3));
        Assert.Equal([1, 0, 4], shuffler.Batch(3, 3));   // the batch runs into epoch 1
        Assert.Equal([3, 2, 1, 0, 4, 3, 2], shuffler.Batch(6, 7));
        Assert.Throws<InvalidOperationException>(() => new EpochShuffler(0, (_, _) => { }));
    }

    [Fact]
    public void ShufflerGivesEachEpochItsOwnPermutationFromItsSeed()
    {
        var shuffler = new EpochShuffler(10, (epoch, order) => new Random((int)epoch + 1).Shuffle(order));
        var epoch0 = shuffler.Order(0).ToArray();
        var epoch1 = shuffler.Order(1).ToArray();
        Assert.Equal(Enumerable.Range(0, 10), epoch0.Order());
        Assert.NotEqual(epoch0, epoch1);
        // The same epoch again, out of order, is the same permutation (what a resumed pre-training run relies on).
        Assert.Equal(epoch0, shuffler.Order(0));
        var expected = Enumerable.Range(0, 10).ToArray();
        new Random(2).Shuffle(expected);
        Assert.Equal(expected, epoch1);
    }

    [Fact]
    public void BestOnValidationKeepsTheBestEvaluationsParameters()
    {
        using var model = nn.Linear(2, 1);
        using var best = new BestOnValidation();
        using var _ = no_grad();
        using Scalar one = 1.0, two = 2.0, three = 3.0;
        model.weight!.fill_(one);
        Assert.True(best.Offer(model, 0.5));     // the first evaluation is always kept
        model.weight!.fill_(two);
        Assert.True(best.Offer(model, 0.7));
        model.weight!.fill_(three);
        Assert.False(best.Offer(model, 0.7));    // a tie keeps the earlier one
        Assert.False(best.Offer(model, 0.1));
        Assert.Equal(0.7, best.Score);
        best.Restore(model);
        Assert.Equal(new float[] { 2, 2 }, model.weight!.data<float>().ToArray());
        Assert.True(BestOnValidation.IsEvaluationStep(20, 10, 35));
        Assert.False(BestOnValidation.IsEvaluationStep(21, 10, 35));
        Assert.True(BestOnValidation.IsEvaluationStep(35, 10, 35));   // the last step always evaluates
    }
}
