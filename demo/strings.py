"""Every sentence the demo shows, one table per language (English, Korean), in the lectures' own terms.

Two uses of one table:
- the labels of the page (tabs, buttons, fields, fixed notes) go through Gradio's I18n (`i18n("key")`): the
  browser's language picks the table;
- what the server writes per request (answers, notes, the worked sums, messages and errors) is formatted
  from the same table in the language the request prefers (`say(lang, "key", **values)`, `language(request)`).
Model names, numbers and code (W_xh, h_t, tanh) stay as they are in both languages.
"""

from __future__ import annotations

import gradio as gr
from gradio.i18n import I18nData

from demo.runtime import MAX_GENERATE, MAX_TEXT
from demo.train_text import MAX_EPOCHS
from zoo.pictures import BLANK, SPECK

LANGUAGES = ("en", "ko")

EN: dict[str, str] = {
    # ------------------------------------------------------------------ the page
    "app.title": "lecture-zoo: digits, text, points on ONNX Runtime",
    "app.header": "# lecture-zoo\nThe lectures' models (MNIST CNNs, the hihello, charseq and longseq RNNs, the "
    "circles net), served from verified ONNX files by ONNX Runtime. No PyTorch at serving time.",
    "tab.digits": "Digits",
    "tab.draw": "Draw",
    "tab.upload": "Upload",
    "tab.text": "Text",
    "tab.points": "Points",
    "common.model": "model",
    "digits.model_info": "digit models in the manifest, most accurate first",
    "digits.sketch": "Draw a digit",
    "digits.image": "image",
    "digits.examples": "Examples: a scan, a printed digit, a sketch, a phone photo stored sideways (EXIF "
    "orientation 6)",
    "digits.prediction": "prediction",
    "digits.frame": "what the model sees (28×28)",
    "digits.start": "Draw a digit on the canvas, or upload a picture of one.",
    "digits.empty": "Draw a digit on the canvas.",
    "digits.inside": "Inside the network: every layer for this picture",
    "digits.answered": "**{model}** ({what}, {accuracy} on the {dataset} test split) answered in {ms:.2f} ms, "
    "preprocessing included (the canvas model, {width}×{height} px; decoding {decoding:.1f} ms) on {provider}.",
    "text.text": "text",
    "text.text_info": "up to {max_text} characters from the model's vocabulary",
    "text.examples": "Example texts",
    "text.predicted": "next character at every position",
    "text.inside": "Inside the network: the hidden state of every layer",
    "text.continue": "### Continue the text (the step model, one character at a time)",
    "text.length": "length",
    "text.length_info": "1 to {max_generate} characters",
    "text.temperature": "temperature",
    "text.temperature_info": "0 = greedy (always the most likely character)",
    "text.seed": "seed",
    "text.seed_info": "for sampling (temperature > 0)",
    "text.fresh": "new seed each run",
    "text.fresh_info": "untick to keep the seed: the same seed gives the same text",
    "text.go": "Continue",
    "text.generated": "generated",
    "text.more": "(first {shown} of {n} positions)",
    "points.plot": "click a point",
    "points.ask": "Classify point",
    "points.probability": "probability",
    "points.about": "The two-circles net of the MetaCode lecture (2-4-1, sigmoid; BCELoss, Adam): blue, the model "
    "says inner circle; red, outer. Its accuracy on 100 held-out points is in the model card.\n\n**Watch it "
    "learn:** the [Train tab of the browser page](/web/#train) trains this net live in your browser, from the "
    "same points and initial weights, epoch by epoch, with the lecture's knobs (optimiser, learning rate, hidden "
    "units, ...).",
    "points.inner": "inner circle (1)",
    "points.outer": "outer circle (0)",
    "tab.train": "Train",
    "train.intro": "Train a text model here, on the server, as the lecture does: every epoch is one step of its "
    "training file (ONNX Runtime, proven step for step against PyTorch's torch.optim), and the lecture's own line is "
    "printed after it. The lecture's run: Adam, learning rate 0.1, 50 epochs (charseq), 100 (longseq).",
    "train.optimizer": "optimiser",
    "train.lr": "learning rate",
    "train.epochs": "epochs",
    "train.epochs_info": "1 to {max_epochs}",
    "train.button": "Train",
    "train.log": "the lecture's printed loop",
    # ------------------------------------------------------------------ the models, by their lecture
    "model.mlp": "the basics lecture's multilayer perceptron 784-512-512-10",
    "model.cnn": "the MNIST CNN lecture's CNN: 2 convolutions 3×3",
    "model.cnn-small": "the CNN lecture's small CNN: 2 convolutions 5×5",
    "model.cnn-bn": "the basics lecture's CNN with BatchNorm: 3 convolutions 3×3",
    "model.int8": "{what}, quantised to INT8",
    # ------------------------------------------------------------------ messages and errors
    "error.title": "Not accepted",
    "error.no_image": "No image was sent. Upload a picture of one digit (PNG, JPEG, ...).",
    "error.not_image": "{name} is not an image Pillow can read ({kind}). Upload a PNG, JPEG, GIF, BMP, TIFF or "
    "WebP picture of one digit.",
    "error.damaged": "{name} could not be decoded: the file is truncated or damaged ({kind}). Upload a complete PNG, "
    "JPEG, GIF, BMP, TIFF or WebP picture of one digit.",
    "error.too_large": "The image is too large ({megapixels} megapixels); the limit is {limit} megapixels. Scale it down and upload it again.",
    "error.too_many_pixels": "The image is {width}x{height} ({megapixels} megapixels); the limit is {limit} megapixels. "
    "Scale it down and upload it again.",
    "error.sketch_too_large": "The drawing is {width}x{height}; a sketch is at most {side}x{side} px.",
    "error.icon_too_large": "The icon file holds a {width}x{height} picture; icon files (ICO, ICNS) are read up to "
    "{side}x{side} px. Upload the picture as a PNG or JPEG instead.",
    "error.blank": "No ink found: the image is blank, nearly uniform or only noise. Draw a digit, or upload a picture of one.",
    "error.speck": "Only a speck of ink was found. Draw a digit (bigger), or upload a picture of one.",
    "error.empty_text": "The text is empty. Type at least one character of: {allowed}.",
    "error.empty_prefix": "The prefix is empty. Type at least one character of: {allowed}.",
    "error.unknown": "{model} does not know the characters {unknown}. It knows only: {allowed}.",
    "error.length": "The length must be a whole number from 1 to {top}; got {got}.",
    "error.length_range": "The length must be from 1 to {top} characters; got {got}.",
    "error.length_missing": "The length is missing: give a whole number from 1 to {top}.",
    "error.temperature": "The temperature must be a number from 0 (greedy) to {top}; got {got}.",
    "error.seed": "The seed must be a whole number from 0 to {top}; got {got}.",
    "error.point": "Give both coordinates as numbers from −{top} to {top}, e.g. x = 0.2, y = −0.5; got x = {x}, "
    "y = {y}.",
    "error.train_model": "The model {model} cannot be trained here; trainable text models: {models}.",
    "error.train_optimizer": "The optimiser {optimizer} is unknown; choose one of {optimizers}.",
    "error.train_lr_number": "The learning rate {got} is not a number; give one above 0 and at most {top}.",
    "error.train_lr_range": "The learning rate {got} is out of range; give one above 0 and at most {top}.",
    "error.train_epochs_number": "The epochs {got} is not a whole number; give a whole number from 1 to {top}.",
    "error.train_epochs_range": "The epochs {got} is out of range; give a whole number from 1 to {top}.",
    "error.train_missing": "{name} is not in the manifest: run `python -m export train`.",
    # ------------------------------------------------------------------ the Inside view: layers
    "layer.conv": "{n} kernels (filters) of {cin}×{k}×{k}, each makes one map; stride {s}, padding {p}",
    "layer.pool": "max pooling: the largest value of each {k}×{k} window, channel by channel; stride {s}",
    "layer.size": "output size = (input − kernel + 2·padding) / stride + 1 = ({n} − {k} + 2·{p}) / {s} + 1 = {out}",
    "layer.size_floor": "{exact}, rounded down: {out}",
    "layer.bn": "BatchNorm, per channel: (x − running mean) / √(running var + ε) · γ + β (γ, β: the module's weight "
    "and bias; mean and var: kept from training)",
    "layer.relu": "ReLU: max(0, x), every negative value becomes 0",
    "layer.linear": "W·x + b: each of the {n} units weighs all {m} values before it{flat}",
    "layer.flat": " ({shape}, flattened)",
    "layer.softmax": "softmax: e^z / Σ e^z over the logits, probabilities that add up to 1",
    "layer.input": "the 28×28 frame the network sees: 0 is background, 1 is ink",
    "layer.scale": "colour scale, one for all {n} {what}: blue < 0 < red",
    "layer.scale1": "colour scale: blue < 0 < red",
    "layer.module": "PyTorch module {module}",
    "layer.channels": "channels",
    "layer.units": "units",
    "layer.pick": "Click (or tap) any cell of a layer: its value is worked out below the layer, with the model's "
    "own numbers.",
    "inside.note": "**{model}**: the frame and its {n} layers, in the order the network computes them, from "
    "`{model}-probe.onnx` ({ms:.1f} ms). Blue is below zero, red above; each layer has its own scale.",
    "inside.prompt": "Draw a digit or upload a picture: every layer of the network will show here.",
    "inside.int8": "The Inside view shows float models: {asked} is {model} quantised to INT8, so these are "
    "{model}'s layers and answer.",
    # ------------------------------------------------------------------ the Inside view: text
    "text.title": "hidden state, {units} units × {n} characters",
    "text.layer": "{op} layer {k}",
    "text.bias": "b = b_ih + b_hh: PyTorch keeps two biases, and their sum is the lecture's b",
    "text.gru1": "h_t = (1 − z_t)·n_t + z_t·h_t−1, z_t the update gate, and the candidate",
    "text.gru2": "n_t = tanh(W_in x_t + b_in + r_t·(W_hn h_t−1 + b_hn)), r_t the reset gate",
    "text.columns": "a column is h_t, the hidden state after reading the character above it (top row); a row is "
    "a unit; the bottom row is the next character predicted",
    "text.output": "hidden size = vocabulary size ({units}): this hidden state is the output itself, the logits "
    "(row c scores character c as the next one)",
    "text.first": "the first {t} of {n} characters",
    "text.scale": "fixed scale: a hidden state lies between −1 and 1",
    "text.ce_title": "Cross-entropy per character (CrossEntropyLoss, the loss the lecture prints while training)",
    "text.ce_note": "The text is part of {model}'s training text, so every character has a true next one: the loss "
    "at a character is −log p(the true next character).",
    "text.ce_none": "Cross-entropy needs the true next characters: type a part of {model}'s training text "
    "(e.g. {example}) to see it per character.",
    "text.read": "reads",
    "text.true": "true next",
    "text.p": "p(true)",
    "text.loss": "−log p",
    "text.mean": "mean over the {n} characters: {loss}",
    # ------------------------------------------------------------------ a picked cell's worked sum
    "cell.where_map": "{layer}[channel {c}, row {y}, column {x}] = {v}",
    "cell.where_unit": "{layer}[{c}] = {v}",
    "cell.input": "A pixel of the 28×28 frame: 0 is background, 1 is ink (white on black, as in MNIST).",
    "cell.conv": "A {k}×{k} kernel slides over {what} (stride {s}, padding {p}): this cell is its window at rows "
    "{y0}..{y1}, columns {x0}..{x1}.",
    "cell.conv_frame": "the frame",
    "cell.conv_channels": "all {n} channels of {layer}",
    "cell.padding": "The window reaches past the picture's edge: the padding there counts as 0.",
    "cell.patch": "input × kernel",
    "cell.patch_channel": "channel {c} of {layer} (the largest share): input × kernel",
    "cell.channels": "Every channel's {k}×{k} sum, largest first: {shares} = {total}",
    "cell.more": "… ({n} more)",
    "cell.bias": "{total} {bias} (bias) = {sum}   (the model computed {v})",
    "cell.bn": "{layer} (BatchNorm, channel {c}): (x − mean) / √(var + ε) × γ + β",
    "cell.then_relu": "then {layer} (ReLU): max(0, {x}) = {v}",
    "cell.relu": "ReLU: max(0, {x}) = {v}",
    "cell.pool": "The {k}×{k} window of {layer}, channel {c}, rows {y0}..{y1}, columns {x0}..{x1}:",
    "cell.window": "the window (the winner in bold)",
    "cell.linear": "A weighted sum of all {n} values of {layer} (flattened), plus a bias. The largest terms:",
    "cell.terms": "… Σ of {n} terms = {total}",
    "cell.softmax": "softmax: p_k = exp(logit_k) / Σ exp(logit_j) (exp taken after subtracting the largest logit, "
    "which changes nothing)",
    "cell.digit": "digit",
    "cell.logit": "logit",
    "cell.ce": "cross-entropy if the answer is {k}: −log p({k}) = −log {p} = {loss}",
    "cell.no_ink": "(no ink: the canvas model answers all zeros; the layers show the empty frame)",
    "cell.gone": "This picture is no longer on the server: draw or upload it again, then pick a cell.",
    "cell.none": "Pick a cell inside a layer's maps.",
    "cell.no_weights": "{model} has no weights file in the manifest: its worked sums cannot be shown.",
}

KO: dict[str, str] = {
    "app.title": "lecture-zoo: ONNX Runtime 위의 숫자, 텍스트, 점",
    "app.header": "# lecture-zoo\n강의의 모델들(MNIST 합성곱 신경망, hihello·charseq·longseq 순환 신경망, 두 원 "
    "분류 신경망)을 검증된 ONNX 파일로 ONNX Runtime이 실행합니다. 서비스할 때 PyTorch는 쓰지 않습니다.",
    "tab.digits": "숫자",
    "tab.draw": "그리기",
    "tab.upload": "올리기",
    "tab.text": "텍스트",
    "tab.points": "점",
    "common.model": "모델",
    "digits.model_info": "매니페스트의 숫자 모델, 정확도가 높은 순",
    "digits.sketch": "숫자를 그리세요",
    "digits.image": "사진",
    "digits.examples": "예시: 스캔, 인쇄된 숫자, 스케치, 옆으로 저장된 휴대폰 사진 (EXIF 방향 6)",
    "digits.prediction": "예측",
    "digits.frame": "모델이 보는 것 (28×28)",
    "digits.start": "캔버스에 숫자를 그리거나 숫자 사진을 올리세요.",
    "digits.empty": "캔버스에 숫자를 그리세요.",
    "digits.inside": "신경망 안쪽: 이 그림에 대한 모든 층",
    "digits.answered": "**{model}** ({what}, {dataset} 테스트 세트 정확도 {accuracy})의 답: {ms:.2f} ms, 전처리 포함 "
    "(캔버스 모델, {width}×{height} px; 디코딩 {decoding:.1f} ms), {provider}에서.",
    "text.text": "텍스트",
    "text.text_info": "모델의 어휘에 있는 문자로 최대 {max_text}자",
    "text.examples": "예시 텍스트",
    "text.predicted": "위치마다 예측한 다음 문자",
    "text.inside": "신경망 안쪽: 층마다 은닉 상태",
    "text.continue": "### 텍스트 이어 쓰기 (스텝 모델, 한 번에 한 문자)",
    "text.length": "길이",
    "text.length_info": "1에서 {max_generate}자까지",
    "text.temperature": "온도",
    "text.temperature_info": "0 = 탐욕적 선택 (항상 확률이 가장 높은 문자)",
    "text.seed": "시드",
    "text.seed_info": "샘플링용 (온도 > 0)",
    "text.fresh": "실행마다 새 시드",
    "text.fresh_info": "체크를 풀면 시드를 유지합니다: 같은 시드는 같은 텍스트를 만듭니다",
    "text.go": "이어 쓰기",
    "text.generated": "생성된 텍스트",
    "text.more": "(위치 {n}개 중 처음 {shown}개)",
    "points.plot": "점을 클릭하세요",
    "points.ask": "점 분류",
    "points.probability": "확률",
    "points.about": "MetaCode 강의의 두 원 분류 신경망 (2-4-1, 시그모이드; BCELoss, Adam): 파랑은 안쪽 원, 빨강은 "
    "바깥쪽 원이라는 모델의 답입니다. 떼어 둔 점 100개에 대한 정확도는 모델 카드에 있습니다.\n\n**학습을 지켜보세요:** "
    "[브라우저 페이지의 Train 탭](/web/#train)에서 같은 점과 같은 초기 가중치로 이 신경망이 에포크마다 브라우저 안에서 "
    "학습합니다. 강의의 설정(옵티마이저, 학습률, 은닉 유닛 수, ...)을 바꿀 수 있습니다.",
    "points.inner": "안쪽 원 (1)",
    "points.outer": "바깥쪽 원 (0)",
    "tab.train": "학습",
    "train.intro": "강의처럼 텍스트 모델을 여기 서버에서 학습시킵니다: 에포크마다 학습 파일(ONNX Runtime, PyTorch의 "
    "`torch.optim`과 스텝마다 같음을 확인함)을 한 스텝 실행하고, 그 뒤에 강의의 코드가 출력하는 줄을 그대로 찍습니다. "
    "강의의 설정: 옵티마이저 Adam, 학습률 0.1, 에포크 50번 (charseq), 100번 (longseq).",
    "train.optimizer": "옵티마이저",
    "train.lr": "학습률",
    "train.epochs": "에포크",
    "train.epochs_info": "1부터 {max_epochs}까지",
    "train.button": "학습",
    "train.log": "강의 코드가 출력하는 학습 루프",
    "model.mlp": "기초 강의의 다층 퍼셉트론 784-512-512-10",
    "model.cnn": "MNIST CNN 강의의 합성곱 신경망: 3×3 합성곱 2층",
    "model.cnn-small": "CNN 강의의 작은 합성곱 신경망: 5×5 합성곱 2층",
    "model.cnn-bn": "기초 강의의 배치 정규화 합성곱 신경망: 3×3 합성곱 3층",
    "model.int8": "{what}, INT8로 양자화",
    "error.title": "받을 수 없는 입력",
    "error.no_image": "사진이 오지 않았습니다. 숫자 하나가 담긴 사진(PNG, JPEG, ...)을 올리세요.",
    "error.not_image": "{name}은(는) Pillow가 읽을 수 있는 사진이 아닙니다 ({kind}). 숫자 하나가 담긴 PNG, JPEG, GIF, "
    "BMP, TIFF, WebP 사진을 올리세요.",
    "error.damaged": "{name}을(를) 디코딩할 수 없습니다: 파일이 잘렸거나 손상되었습니다 ({kind}). 숫자 하나가 담긴 "
    "온전한 PNG, JPEG, GIF, BMP, TIFF, WebP 사진을 올리세요.",
    "error.too_large": "사진이 너무 큽니다 ({megapixels}메가픽셀). 한도는 {limit}메가픽셀입니다. 줄여서 다시 올리세요.",
    "error.too_many_pixels": "사진이 {width}x{height} ({megapixels}메가픽셀)입니다. 한도는 {limit}메가픽셀입니다. "
    "줄여서 다시 올리세요.",
    "error.sketch_too_large": "그림이 {width}x{height}입니다. 스케치는 한 변이 최대 {side}px입니다.",
    "error.icon_too_large": "아이콘 파일에 {width}x{height} 그림이 들어 있습니다. 아이콘 파일(ICO, ICNS)은 한 변 "
    "{side}px까지 읽습니다. 그림을 PNG나 JPEG로 올리세요.",
    "error.blank": "잉크가 없습니다: 그림이 비어 있거나, 거의 한 가지 색이거나, 잡음뿐입니다. 숫자를 그리거나 숫자 사진을 올리세요.",
    "error.speck": "잉크가 점 하나 정도뿐입니다. 숫자를 (더 크게) 그리거나 숫자 사진을 올리세요.",
    "error.empty_text": "텍스트가 비어 있습니다. 다음 문자 중 하나 이상을 입력하세요: {allowed}.",
    "error.empty_prefix": "앞 텍스트가 비어 있습니다. 다음 문자 중 하나 이상을 입력하세요: {allowed}.",
    "error.unknown": "{model}은(는) 문자 {unknown}을(를) 모릅니다. 아는 문자는 다음뿐입니다: {allowed}.",
    "error.length": "길이는 1에서 {top}까지의 정수여야 합니다; 받은 값: {got}.",
    "error.length_range": "길이는 1에서 {top}자까지여야 합니다; 받은 값: {got}.",
    "error.length_missing": "길이가 없습니다: 1에서 {top}까지의 정수를 주세요.",
    "error.temperature": "온도는 0(탐욕적)에서 {top}까지의 수여야 합니다; 받은 값: {got}.",
    "error.seed": "시드는 0에서 {top}까지의 정수여야 합니다; 받은 값: {got}.",
    "error.point": "두 좌표 모두 −{top}에서 {top}까지의 수로 주세요. 예: x = 0.2, y = −0.5; 받은 값: x = {x}, y = {y}.",
    "error.train_model": "{model} 모델은 여기서 학습할 수 없습니다. 학습할 수 있는 텍스트 모델: {models}.",
    "error.train_optimizer": "{optimizer} 옵티마이저는 없습니다. 다음 중에서 고르세요: {optimizers}.",
    "error.train_lr_number": "학습률 {got}은(는) 수가 아닙니다. 0보다 크고 {top} 이하인 수를 주세요.",
    "error.train_lr_range": "학습률 {got}은(는) 범위 밖입니다. 0보다 크고 {top} 이하인 수를 주세요.",
    "error.train_epochs_number": "에포크 {got}은(는) 정수가 아닙니다. 1부터 {top}까지의 정수를 주세요.",
    "error.train_epochs_range": "에포크 {got}은(는) 범위 밖입니다. 1부터 {top}까지의 정수를 주세요.",
    "error.train_missing": "{name}이(가) 매니페스트에 없습니다: `python -m export train`을 실행하세요.",
    "layer.conv": "{cin}×{k}×{k} 커널(필터) {n}개, 커널마다 맵 하나; 스트라이드 {s}, 패딩 {p}",
    "layer.pool": "최대 풀링: 채널마다 {k}×{k} 창에서 가장 큰 값; 스트라이드 {s}",
    "layer.size": "출력 크기 = (입력 − 커널 + 2·패딩) / 스트라이드 + 1 = ({n} − {k} + 2·{p}) / {s} + 1 = {out}",
    "layer.size_floor": "{exact}, 내림: {out}",
    "layer.bn": "배치 정규화, 채널마다: (x − 이동 평균) / √(이동 분산 + ε) · γ + β (γ, β: 모듈의 가중치(weight)와 편향(bias); "
    "평균과 분산: 학습 때 모아 둔 값)",
    "layer.relu": "ReLU: max(0, x), 음수는 모두 0이 됩니다",
    "layer.linear": "W·x + b: {n}개 유닛이 각각 앞 층의 값 {m}개 전부에 가중치를 곱해 더합니다{flat}",
    "layer.flat": " ({shape}, 펼친 것)",
    "layer.softmax": "소프트맥스: 로짓에 대해 e^z / Σ e^z, 더하면 1이 되는 확률",
    "layer.input": "신경망이 보는 28×28 프레임: 0은 배경, 1은 잉크",
    "layer.scale": "색 척도, {what} {n}개 모두 하나: 파랑 < 0 < 빨강",
    "layer.scale1": "색 척도: 파랑 < 0 < 빨강",
    "layer.module": "PyTorch 모듈 {module}",
    "layer.channels": "채널",
    "layer.units": "유닛",
    "layer.pick": "층의 아무 칸이나 클릭(또는 탭)하세요: 그 값이 모델의 실제 숫자로 층 바로 아래에 계산됩니다.",
    "inside.note": "**{model}**: 프레임과 층 {n}개, 신경망이 계산하는 순서대로 (`{model}-probe.onnx`, {ms:.1f} ms). "
    "파랑은 0보다 작고 빨강은 큽니다; 층마다 척도가 따로 있습니다.",
    "inside.prompt": "숫자를 그리거나 사진을 올리세요: 신경망의 모든 층이 여기에 나타납니다.",
    "inside.int8": "안쪽 보기는 부동소수점 모델을 보여 줍니다: {asked}는 {model}을 INT8로 양자화한 것이라, "
    "여기 보이는 층과 답은 {model}의 것입니다.",
    "text.title": "은닉 상태, 유닛 {units}개 × 문자 {n}개",
    "text.layer": "{op} {k}층",
    "text.bias": "b = b_ih + b_hh: PyTorch는 편향을 둘로 나눠 두며, 그 합이 강의의 b입니다",
    "text.gru1": "h_t = (1 − z_t)·n_t + z_t·h_t−1, z_t는 업데이트 게이트, 후보 상태는",
    "text.gru2": "n_t = tanh(W_in x_t + b_in + r_t·(W_hn h_t−1 + b_hn)), r_t는 리셋 게이트",
    "text.columns": "열 하나가 h_t, 위의 문자(맨 윗줄)를 읽은 뒤의 은닉 상태입니다; 행 하나가 유닛; 맨 아랫줄은 "
    "예측한 다음 문자입니다",
    "text.output": "은닉 크기 = 어휘 크기 ({units}): 이 은닉 상태가 곧 출력인 로짓입니다 (행 c는 문자 c가 다음에 올 점수)",
    "text.first": "문자 {n}개 중 처음 {t}개",
    "text.scale": "고정 척도: 은닉 상태는 −1과 1 사이에 있습니다",
    "text.ce_title": "문자마다 교차 엔트로피 (CrossEntropyLoss, 강의에서 학습하며 출력하는 손실)",
    "text.ce_note": "이 텍스트는 {model}의 학습 텍스트의 일부라서 문자마다 정답인 다음 문자가 있습니다: "
    "그 문자의 손실은 −log p(정답 다음 문자)입니다.",
    "text.ce_none": "교차 엔트로피에는 정답인 다음 문자가 필요합니다: {model}의 학습 텍스트 일부(예: {example})를 "
    "입력하면 문자마다 보입니다.",
    "text.read": "읽은 문자",
    "text.true": "정답 다음 문자",
    "text.p": "p(정답)",
    "text.loss": "−log p",
    "text.mean": "문자 {n}개의 평균: {loss}",
    "cell.where_map": "{layer}[채널 {c}, 행 {y}, 열 {x}] = {v}",
    "cell.where_unit": "{layer}[{c}] = {v}",
    "cell.input": "28×28 프레임의 한 픽셀: 0은 배경, 1은 잉크 (MNIST처럼 검은 바탕에 흰 글씨).",
    "cell.conv": "{k}×{k} 커널이 {what} 위를 움직입니다 (스트라이드 {s}, 패딩 {p}): 이 칸은 행 {y0}..{y1}, "
    "열 {x0}..{x1}의 창입니다.",
    "cell.conv_frame": "프레임",
    "cell.conv_channels": "{layer}의 채널 {n}개 전부",
    "cell.padding": "창이 그림 가장자리를 넘어갑니다: 그곳은 패딩으로 0입니다.",
    "cell.patch": "입력 × 커널",
    "cell.patch_channel": "{layer}의 채널 {c} (가장 큰 몫): 입력 × 커널",
    "cell.channels": "채널마다 {k}×{k} 합, 큰 것부터: {shares} = {total}",
    "cell.more": "… (그 밖에 {n}개)",
    "cell.bias": "{total} {bias} (편향) = {sum}   (모델이 계산한 값 {v})",
    "cell.bn": "{layer} (배치 정규화, 채널 {c}): (x − 평균) / √(분산 + ε) × γ + β",
    "cell.then_relu": "이어서 {layer} (ReLU): max(0, {x}) = {v}",
    "cell.relu": "ReLU: max(0, {x}) = {v}",
    "cell.pool": "{layer}의 채널 {c}, 행 {y0}..{y1}, 열 {x0}..{x1}의 {k}×{k} 창:",
    "cell.window": "창 (굵은 글씨가 최댓값)",
    "cell.linear": "{layer}의 값 {n}개 전부(펼친 것)의 가중합에 편향을 더합니다. 가장 큰 항:",
    "cell.terms": "… 항 {n}개의 합 Σ = {total}",
    "cell.softmax": "소프트맥스: p_k = exp(logit_k) / Σ exp(logit_j) (가장 큰 로짓을 뺀 뒤 exp를 취해도 결과는 같습니다)",
    "cell.digit": "숫자",
    "cell.logit": "로짓",
    "cell.ce": "정답이 {k}이면 교차 엔트로피: −log p({k}) = −log {p} = {loss}",
    "cell.no_ink": "(잉크 없음: 캔버스 모델의 답은 모두 0이고, 층은 빈 프레임을 보여 줍니다)",
    "cell.gone": "이 그림은 이제 서버에 없습니다: 다시 그리거나 올린 뒤 칸을 고르세요.",
    "cell.none": "층의 맵 안에서 칸을 고르세요.",
    "cell.no_weights": "{model}은 매니페스트에 가중치 파일이 없어 계산 과정을 보여 줄 수 없습니다.",
}

TABLES = {"en": EN, "ko": KO}


def say(lang: str, key: str, **values) -> str:
    """The sentence `key` in `lang` (English where the language is not served), with `values` filled in."""
    return TABLES.get(lang, EN)[key].format(**values)


def language(request: gr.Request | None) -> str:
    """The language a request prefers among those served (its Accept-Language), else English."""
    header = ""
    if request is not None:
        headers = getattr(request, "headers", None) or {}
        header = headers.get("accept-language", "") if hasattr(headers, "get") else ""
    for part in header.split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in TABLES:
            return code
    return "en"


def label(key: str) -> I18nData:
    """A label, note or button text of the page, translated in the browser (`key` in every table)."""
    if key not in _fixed(EN):
        raise KeyError(f"{key!r} is not a fixed sentence of demo/strings.py's tables")
    return I18nData(key)


def english(text) -> str:
    """A component's label as words for a message (an I18nData label: its English sentence)."""
    return EN.get(text.key, text.key) if isinstance(text, I18nData) else str(text)


# What the pictures' reader says, by its English message (zoo/pictures.py: the same sentences in every runtime)
_KNOWN = {BLANK: "error.blank", SPECK: "error.speck"}


def message(error: Exception, lang: str) -> str:
    """An error's message in `lang`: in English as it was raised (API callers read the same words), in another
    language from its key (demo.runtime.BadRequest) or its known English sentence, else as it is."""
    key = getattr(error, "key", None) or _KNOWN.get(str(error))
    if lang == "en" or key is None or key not in EN:
        return str(error)
    return say(lang, key, **getattr(error, "values", {}))


# The numbers the page's fixed labels name (the browser's tables get them filled in).
STATIC = {"max_text": f"{MAX_TEXT:,}", "max_generate": f"{MAX_GENERATE:,}", "max_epochs": f"{MAX_EPOCHS:,}"}


def _fixed(table: dict[str, str]) -> dict[str, str]:
    """The entries the browser translates: every one whose blanks STATIC fills (the others are the server's)."""
    fixed = {}
    for key, text in table.items():
        try:
            fixed[key] = text.format(**STATIC)
        except (KeyError, IndexError, ValueError):
            continue
    return fixed


def i18n() -> gr.I18n:
    """The tables for Gradio's I18n (the page's labels, translated in the browser by its language)."""
    return gr.I18n(**{lang: _fixed(table) for lang, table in TABLES.items()})
