"""Words of the synthetic Turkish wholesaler: product range, bundles, seasons, company names, cities.

Used by :mod:`crmlib.data.sample.model`; see :mod:`crmlib.data.sample` for the model as a whole.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Seasons as 1-based months: summer textiles Apr-Jun, school Aug-Sep, gifts Nov-Dec, winter Oct-Jan.
SEASONS: dict[str, tuple[int, ...]] = {
    "yaz": (4, 5, 6), "okul": (8, 9), "hediye": (11, 12), "kis": (10, 11, 12, 1),
}
IN_SEASON = 8.0  # pick weight of a seasonal product in its season ...
OFF_SEASON = 0.15  # ... and out of it (non-seasonal products: 1)

# category: (code prefix, ((item, standard price TL per pack, season), ...), bundles as item-name tuples)
CATEGORIES: dict[str, tuple[str, tuple[tuple[str, float, str], ...], tuple[tuple[str, ...], ...]]] = {
    "Tekstil": ("TKS", (
        ("Pamuklu Tişört", 140, "yaz"), ("Keten Gömlek", 320, "yaz"), ("Şort", 190, "yaz"),
        ("Plaj Havlusu", 150, "yaz"), ("Polar Bere", 90, "kis"), ("Yün Atkı", 160, "kis"),
        ("Kot Pantolon", 450, ""), ("Eşofman Takımı", 380, ""), ("Çorap 12'li", 120, ""),
        ("İç Çamaşırı Seti", 200, ""), ("Pijama Takımı", 280, ""), ("Nevresim Takımı", 520, ""),
        ("Havlu Seti", 240, ""), ("Sweatshirt", 340, ""),
    ), (("Nevresim Takımı", "Havlu Seti"), ("Pamuklu Tişört", "Şort"))),
    "Aksesuar": ("AKS", (
        ("Deri Kemer", 160, ""), ("Cüzdan", 210, ""), ("Hasır Şapka", 130, "yaz"),
        ("Güneş Gözlüğü", 180, "yaz"), ("Şemsiye", 140, "kis"), ("İpek Fular", 170, ""),
        ("Bileklik", 60, ""), ("Kolye", 110, ""), ("Saç Tokası Seti", 45, ""),
        ("Sırt Çantası", 380, "okul"), ("El Çantası", 420, ""), ("Anahtarlık", 35, ""),
        ("Kol Saati", 650, "hediye"), ("Eldiven", 95, "kis"),
    ), (("Deri Kemer", "Cüzdan"), ("İpek Fular", "Saç Tokası Seti", "Bileklik"))),
    "Ambalaj": ("AMB", (
        ("Karton Koli", 85, ""), ("Koli Bandı 36'lı", 60, ""), ("Streç Film", 210, ""),
        ("Baloncuklu Naylon", 180, ""), ("Kraft Poşet", 95, ""), ("Hediye Kutusu", 140, "hediye"),
        ("Hediye Paketi Kağıdı", 70, "hediye"), ("Kurdele", 40, "hediye"), ("Plastik Poşet", 55, ""),
        ("Etiket Rulosu", 75, ""), ("Köpük Dolgu", 120, ""), ("Kağıt Çanta", 110, ""),
        ("Pizza Kutusu", 130, ""), ("Vakumlu Torba", 160, ""),
    ), (("Karton Koli", "Koli Bandı 36'lı", "Streç Film"),
        ("Hediye Kutusu", "Hediye Paketi Kağıdı", "Kurdele"))),
    "Kırtasiye": ("KRT", (
        ("Okul Defteri", 90, "okul"), ("Kurşun Kalem Seti", 55, "okul"), ("Silgi 24'lü", 40, "okul"),
        ("Boya Kalemi Seti", 85, "okul"), ("Cetvel Seti", 35, "okul"), ("Tükenmez Kalem 50'li", 120, ""),
        ("A4 Fotokopi Kağıdı", 170, ""), ("Dosya Klasör", 65, ""), ("Zımba", 80, ""),
        ("Yapışkanlı Not Kağıdı", 45, ""), ("Sıvı Yapıştırıcı", 30, ""), ("Makas", 50, ""),
        ("Ajanda", 150, "hediye"), ("Hesap Makinesi", 190, ""),
    ), (("Okul Defteri", "Kurşun Kalem Seti", "Silgi 24'lü"), ("A4 Fotokopi Kağıdı", "Dosya Klasör"))),
    "Temizlik": ("TMZ", (
        ("Bulaşık Deterjanı", 110, ""), ("Çamaşır Deterjanı", 260, ""), ("Yumuşatıcı", 150, ""),
        ("Yüzey Temizleyici", 90, ""), ("Çamaşır Suyu", 70, ""), ("Bulaşık Süngeri 10'lu", 45, ""),
        ("Mikrofiber Bez", 60, ""), ("Çöp Torbası", 80, ""), ("Kağıt Havlu 12'li", 190, ""),
        ("Tuvalet Kağıdı 32'li", 280, ""), ("Sıvı Sabun", 95, ""), ("El Dezenfektanı", 85, ""),
        ("Cam Temizleyici", 75, ""), ("Paspas Seti", 210, ""),
    ), (("Bulaşık Deterjanı", "Bulaşık Süngeri 10'lu"), ("Çamaşır Deterjanı", "Yumuşatıcı"))),
    "Züccaciye": ("ZCC", (
        ("Çay Bardağı 6'lı", 90, ""), ("Çay Tabağı 6'lı", 70, ""), ("Yemek Takımı", 1400, ""),
        ("Tencere Seti", 1900, ""), ("Tava", 450, ""), ("Çatal Kaşık Seti", 520, ""),
        ("Saklama Kabı Seti", 240, ""), ("Su Bardağı 6'lı", 110, ""), ("Kupa", 60, "hediye"),
        ("Çaydanlık", 480, ""), ("Piknik Seti", 360, "yaz"), ("Termos", 320, "kis"),
        ("Cam Sürahi", 130, ""), ("Kesme Tahtası", 95, ""),
    ), (("Çay Bardağı 6'lı", "Çay Tabağı 6'lı"), ("Tencere Seti", "Tava"))),
}

SECTOR_WORDS: dict[str, tuple[str, ...]] = {
    "Tekstil": ("Tekstil", "Konfeksiyon", "Giyim"),
    "Aksesuar": ("Aksesuar", "Butik", "Moda"),
    "Ambalaj": ("Ambalaj", "Paketleme", "Ambalaj Sanayi"),
    "Kırtasiye": ("Kırtasiye", "Kitabevi", "Ofis Malzemeleri"),
    "Temizlik": ("Temizlik", "Hijyen", "Temizlik Ürünleri"),
    "Züccaciye": ("Züccaciye", "Ev Gereçleri", "Mutfak Eşyaları"),
}
SURNAMES = (
    "Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Yıldırım", "Öztürk", "Aydın", "Özdemir",
    "Arslan", "Doğan", "Kılıç", "Aslan", "Çetin", "Kara", "Koç", "Kurt", "Özkan", "Şimşek", "Polat",
    "Korkmaz", "Karaca", "Güneş", "Aksoy", "Erdoğan", "Bulut", "Keskin", "Ünal", "Turan", "Güler",
    "Tekin", "Avcı", "Bozkurt", "Kaplan", "Çakır", "Acar", "Uçar", "Gündoğdu", "Ekinci", "Tuncer",
)
BRANDS = (
    "Anadolu", "Ege", "Marmara", "Karadeniz", "Akdeniz", "Başkent", "Yeni", "Güven", "Doğuş", "Umut",
    "Işık", "Özgür", "Birlik", "Kardelen", "Çınar", "Defne", "Lale", "Göktürk", "Nur", "Sedef",
)
FIRST_NAMES = (
    "Mehmet", "Ahmet", "Mustafa", "Ali", "Hüseyin", "Hasan", "İbrahim", "Murat", "Emre", "Burak",
    "Ayşe", "Fatma", "Zeynep", "Elif", "Emine", "Hatice", "Merve", "Özlem", "Gül", "Şule",
)
LEGAL = ("Ltd. Şti.", "San. ve Tic. Ltd. Şti.", "A.Ş.", "San. ve Tic. A.Ş.", "Tic. Ltd. Şti.")
LEGAL_P = np.array([[0.1, 0.2, 0.3, 0.4, 0.0], [0.35, 0.3, 0.15, 0.1, 0.1], [0.5, 0.2, 0.05, 0.0, 0.25],
                    [0.5, 0.2, 0.05, 0.0, 0.25]])  # by latent type
CITIES = (
    ("İstanbul", 30), ("Ankara", 10), ("İzmir", 9), ("Bursa", 7), ("Gaziantep", 5), ("Konya", 5),
    ("Antalya", 5), ("Kayseri", 4), ("Adana", 4), ("Denizli", 4), ("Mersin", 3), ("Kocaeli", 3),
    ("Eskişehir", 3), ("Samsun", 3), ("Trabzon", 2), ("Diyarbakır", 2), ("Malatya", 1),
)
_ASCII = str.maketrans("çğıİöşüÇĞÖŞÜâ", "cgiiosuCGOSUa")


def products(rng: np.random.Generator) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """The product table and the arrays used to draw lines.

    Returns ``(products, arrays)``; ``products`` has product_id, name, category, price, unit_cost
    (standard variant ``-S`` margin 12-22 %, premium ``-P`` 1.6-2.2 times the price and 28-42 % margin).
    ``arrays``: ``pick_cum`` (category, month, item) cumulative pick weights (popularity x season),
    ``index`` (category, item, premium) product row, ``bundles`` (category, 2, 3) item numbers (-1 pad),
    ``bundle_cum`` (category, month, 2) cumulative bundle weights (mean season factor of their items),
    ``seasonal`` product rows' season months as a boolean (product, 12) matrix.
    """
    rows = []
    n_items = max(len(items) for _, items, _ in CATEGORIES.values())
    weight = np.zeros((len(CATEGORIES), 12, n_items))
    factor = np.ones((len(CATEGORIES), 12, n_items))
    bundle_w = np.zeros((len(CATEGORIES), 12, 2))
    index = np.full((len(CATEGORIES), n_items, 2), -1)
    bundles = np.full((len(CATEGORIES), 2, 3), -1)
    in_season = []
    for ci, (category, (prefix, items, bundle_names)) in enumerate(CATEGORIES.items()):
        names = [item[0] for item in items]
        popularity = rng.lognormal(0.0, 0.6, len(items))
        for ii, (name, base, season) in enumerate(items):
            months = np.zeros(12, bool)
            if season:
                months[np.array(SEASONS[season]) - 1] = True
            factor[ci, :, ii] = np.where(months, IN_SEASON, OFF_SEASON if season else 1.0)
            weight[ci, :, ii] = popularity[ii] * factor[ci, :, ii]
            std = max(np.round(base * rng.lognormal(0.0, 0.15)) - 0.10, 4.90)
            for premium in (0, 1):
                price = np.round(std * rng.uniform(1.6, 2.2)) - 0.10 if premium else std
                margin = rng.uniform(0.28, 0.42) if premium else rng.uniform(0.12, 0.22)
                index[ci, ii, premium] = len(rows)
                rows.append({
                    "product_id": f"{prefix}-{ii + 1:03d}-{'P' if premium else 'S'}",
                    "name": f"{name} {'Premium' if premium else 'Standart'}",
                    "category": category, "price": round(float(price), 2),
                    "unit_cost": round(float(price * (1 - margin)), 2),
                })
                in_season.append(months)
        for bi, bundle in enumerate(bundle_names):
            bundles[ci, bi, : len(bundle)] = [names.index(b) for b in bundle]
            bundle_w[ci, :, bi] = factor[ci][:, bundles[ci, bi, : len(bundle)]].mean(axis=1)
    arrays = {"pick_cum": np.cumsum(weight, axis=2), "index": index, "bundles": bundles,
              "bundle_cum": np.cumsum(bundle_w, axis=2),
              "seasonal": np.array(in_season)}
    return pd.DataFrame(rows), arrays


def _slug(text: str) -> str:
    return "".join(ch for ch in text.translate(_ASCII).lower() if ch.isalnum())


def company_names(rng: np.random.Generator, typ: np.ndarray, fav: np.ndarray) -> tuple[list[str], list[str]]:
    """Company names like "Yıldız Tekstil Ltd. Şti." and an e-mail for each; by type and main category."""
    n = len(typ)
    sectors = list(SECTOR_WORDS.values())
    surname = rng.integers(0, len(SURNAMES), n)
    brand = rng.integers(0, len(BRANDS), n)
    first = rng.integers(0, len(FIRST_NAMES), n)
    style = rng.random(n)
    sector_pick = rng.integers(0, 3, n)
    legal = (rng.random(n)[:, None] > np.cumsum(LEGAL_P[typ], axis=1)).sum(axis=1)
    local = rng.choice(["info", "satis", "muhasebe", "siparis", "iletisim"], n)
    names, emails = [], []
    for i in range(n):
        sector = sectors[fav[i]][sector_pick[i]]
        sur, br = SURNAMES[surname[i]], BRANDS[brand[i]]
        if typ[i] >= 2 and style[i] < 0.25:  # sole proprietor
            name = f"{FIRST_NAMES[first[i]]} {sur} - {sur} {sector}"
            stem = f"{sur}{sector.split()[0]}"
        elif style[i] < 0.55:
            name, stem = f"{sur} {sector} {LEGAL[legal[i]]}", f"{sur}{sector.split()[0]}"
        elif style[i] < 0.75:
            name, stem = f"{sur} Kardeşler {sector} {LEGAL[legal[i]]}", f"{sur}kardesler"
        else:
            name, stem = f"{br} {sector} {LEGAL[legal[i]]}", f"{br}{sector.split()[0]}"
        names.append(name)
        emails.append(f"{local[i]}@{_slug(stem)}.com.tr")
    return names, emails


def phones(rng: np.random.Generator, n: int) -> list[str]:
    """Turkish mobile numbers, "+90 5xx xxx xx xx"."""
    op = rng.choice([501, 505, 506, 507, 530, 532, 533, 535, 536, 538, 541, 542, 543, 544, 545, 551, 552], n)
    a, b, c = rng.integers(0, 1000, n), rng.integers(0, 100, n), rng.integers(0, 100, n)
    return [f"+90 {op[i]} {a[i]:03d} {b[i]:02d} {c[i]:02d}" for i in range(n)]


def cities(rng: np.random.Generator, n: int) -> np.ndarray:
    """Cities with illustrative weights: the large trade centres (İstanbul, Ankara, İzmir) most often."""
    names = np.array([c for c, _ in CITIES])
    w = np.array([w for _, w in CITIES], float)
    return names[rng.choice(len(names), n, p=w / w.sum())]
