# A recurrent net on the copy task: remember the first symbol across the whole sequence.
# Run as it is, it reproduces the baseline of the preset "lstm-keeps-memory" (a plain
# RNN with tanh), number for number. Swap the cell for nn.LSTMCell and compare.
#
# `lab` is given to you:
#   lab.spec, lab.device, lab.steps, lab.data(), lab.generator,
#   lab.track(model), lab.watch(states), lab.log(step, loss)
import torch
from torch import nn
from torch.nn import functional as F

torch.manual_seed(lab.spec["seed"])
x, y, classes = lab.data()  # x: (samples, time steps, features)

WIDTH = 32


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.input = nn.Linear(x.shape[2], WIDTH)
        self.hidden = nn.Linear(WIDTH, WIDTH, bias=False)
        self.output = nn.Linear(WIDTH, classes)

    def forward(self, inputs):
        h = inputs.new_zeros(len(inputs), WIDTH)
        states = []
        for t in range(inputs.shape[1]):
            h = torch.tanh(self.input(inputs[:, t]) + self.hidden(h))
            states.append(h)
        return self.output(h), states


model = Net().to(lab.device)
lab.track(model)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

for step in range(lab.steps):
    batch = torch.randperm(len(x), generator=lab.generator)[:128].to(lab.device)
    optimizer.zero_grad()
    logits, states = model(x[batch])
    lab.watch(states)  # the gradient reaching each time step, first to last
    loss = F.cross_entropy(logits, y[batch])
    loss.backward()
    lab.log(step, loss)
    optimizer.step()
