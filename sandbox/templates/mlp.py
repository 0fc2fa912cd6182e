# A deep feed-forward network on the spec's task, written out in plain PyTorch.
# Run as it is, it reproduces the preset "sigmoid-vanishes" number for number.
# Change anything: the activation, the initialisation, the depth, the optimizer.
#
# `lab` is given to you:
#   lab.spec, lab.device, lab.steps, lab.data(), lab.generator,
#   lab.track(model), lab.watch(states), lab.log(step, loss)
import torch
from torch import nn
from torch.nn import functional as F

torch.manual_seed(lab.spec["seed"])
x, y, classes = lab.data()

DEPTH, WIDTH = 20, 64


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        # Layers are created input side first: lab.track records them in this order.
        self.hidden = nn.ModuleList([nn.Linear(x.shape[1] if i == 0 else WIDTH, WIDTH) for i in range(DEPTH)])
        self.output = nn.Linear(WIDTH, classes)

    def forward(self, inputs):
        for layer in self.hidden:
            inputs = torch.sigmoid(layer(inputs))
        return self.output(inputs)


model = Net().to(lab.device)
lab.track(model)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

for step in range(lab.steps):
    batch = torch.randperm(len(x), generator=lab.generator)[:128].to(lab.device)
    optimizer.zero_grad()
    loss = F.cross_entropy(model(x[batch]), y[batch])
    loss.backward()
    lab.log(step, loss)  # after backward, before the optimizer changes the weights
    optimizer.step()
