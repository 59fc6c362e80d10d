//! The seeded generator: the tables the company is drawn from, and a tiny random number
//! generator that gives the same company for the same seed on every platform.

/// The catalogue, one product family a line: SKU prefix # tax category # share of the catalogue
/// in percent # items as `name=price in cents` # name variants.
pub(super) const CATALOGUE: &str = "\
OFF # standard # 15 # Copy paper A4 80 g, 500 sheets=549|Ballpoint pens blue, box of 50=1290|Lever arch file 80 mm=389|Sticky notes 76x76 mm, 12 pads=690|Heavy-duty stapler=2490|Desk organiser=1850|Whiteboard markers, set of 4=595|Laminating pouches A4, 100 pcs=1190|Toner cartridge black=6490|Archive box A4=249 # |, recycled|, premium
TLS # standard # 20 # Cordless drill 18 V=12900|Torque wrench 1/2\"=8990|Screwdriver set, 12 pcs=2490|Spirit level 600 mm=1990|Socket set 1/4\", 46 pcs=4590|Angle grinder 125 mm=7990|Tape measure 5 m=890|Claw hammer 500 g=1490|Utility knife=690|Tool case=3490 # |, professional|, compact
ELE # standard # 18 # LED panel 60x60 cm, 36 W=4490|Extension cord 5 m=1290|Installation cable NYM-J 3x1.5 mm², 50 m=5990|Power strip, 6 sockets=1690|LED tube T8 150 cm=890|Cable ties 200 mm, 100 pcs=390|Junction box IP65=290|Circuit breaker B16=490|Motion sensor 180°=2290|LED work light 30 W=3990 # |, white|, black
PKG # standard # 15 # Shipping boxes 400x300x200 mm, 25 pcs=2190|Stretch film 500 mm=1490|Packing tape brown 50 mm, 6 rolls=790|Bubble wrap 1 x 50 m=2990|Pallet labels, roll of 500=1290|Void fill paper 450 m=3490|Mailing bags C4, 100 pcs=1390|Strapping band PP 12 mm=2590 # |, reinforced|, recycled
SAF # standard # 14 # Nitrile gloves, 100 pcs=1290|Hard hat EN 397=990|Safety glasses, clear=490|Hi-vis vest EN ISO 20471=390|Ear defenders SNR 30=1590|Safety boots S3=6990|First aid kit DIN 13157=3490|FFP2 masks, 20 pcs=990 # |, size M|, size L|, size XL
FOD # reduced # 9 # Espresso beans, 1 kg=1690|Mineral water 0.5 l, 24 bottles=790|Green tea, 100 bags=590|Biscuit assortment, 2 kg=1490|Sugar sticks, 1000 pcs=1190|Cocoa powder, 1 kg=1090|Apple juice 0.2 l, 24 bottles=1290 # |, organic|, fair trade
BKS # reduced # 6 # Workplace safety handbook=2990|Technical drawing manual=3490|Electrical installation guide=3990|Logistics pocket dictionary=1490|Machine maintenance log book=990 # |, 2nd edition|, 3rd edition
VCH # zero # 3 # Multi-purpose gift voucher 25 EUR=2500|Multi-purpose gift voucher 50 EUR=5000|Multi-purpose gift voucher 100 EUR=10000 # ";

pub(super) const BRANDS: &str =
    "Nordmark|Kestrel|Atlas|Ferrox|Lumina|Brava|Optima|Vektor|Alpina|Helios|Corvus|Baltica";

/// Customers' countries, one a line: ISO code # share of customers in percent # which word comes
/// first in a company name # cities as `city=postcode` # streets # surnames # trades # legal forms.
pub(super) const COUNTRIES: &str = "\
DE # 35 # surname # Berlin=10115|Hamburg=20095|München=80331|Köln=50667|Frankfurt am Main=60311|Stuttgart=70173|Düsseldorf=40213|Leipzig=04109|Nürnberg=90402|Hannover=30159 # Hauptstraße|Industriestraße|Bahnhofstraße|Gewerbering|Am Hafen|Lindenallee # Müller|Schmidt|Schneider|Fischer|Weber|Meyer|Wagner|Becker|Hoffmann|Schäfer|Koch|Richter # Maschinenbau|Elektrotechnik|Metallbau|Haustechnik|Logistik|Bürobedarf|Werkzeuge|Industriebedarf # GmbH|GmbH & Co. KG|AG|KG
FR # 15 # trade # Paris=75011|Lyon=69003|Marseille=13002|Toulouse=31000|Lille=59000|Nantes=44000|Strasbourg=67000|Bordeaux=33000 # rue de la République|avenue Jean Jaurès|rue du Commerce|boulevard Gambetta|rue de l'Industrie # Martin|Bernard|Dubois|Thomas|Robert|Richard|Petit|Durand|Lefèvre|Moreau|Laurent|Girard # Transports|Fournitures|Équipements|Électricité|Distribution|Outillage|Bâtiment # SAS|SARL|SA
NL # 15 # surname # Amsterdam=1017 AB|Rotterdam=3011 AD|Utrecht=3511 LX|Eindhoven=5611 AZ|Den Haag=2511 CV|Groningen=9711 LM # Keizersgracht|Industrieweg|Stationsstraat|Havenstraat|Nijverheidsweg # De Jong|Jansen|De Vries|Van den Berg|Van Dijk|Bakker|Visser|Smit|Meijer|Mulder # Techniek|Installatie|Logistiek|Handel|Bouwmaterialen|Kantoorartikelen # B.V.
AT # 10 # surname # Wien=1030|Graz=8010|Linz=4020|Salzburg=5020|Innsbruck=6020 # Mariahilfer Straße|Industriezeile|Hauptplatz|Gewerbestraße|Wiener Straße # Gruber|Huber|Bauer|Wagner|Pichler|Steiner|Moser|Mayer|Hofer|Leitner # Haustechnik|Handels|Elektro|Metallwaren|Bau # GmbH|KG|OG
BE # 8 # surname # Bruxelles=1000|Antwerpen=2000|Gent=9000|Liège=4000|Brugge=8000|Leuven=3000 # Rue Neuve|Meir|Kortrijksesteenweg|Boulevard d'Avroy|Industrielaan # Peeters|Janssens|Maes|Jacobs|Mertens|Willems|Claes|Lambert|Dupont # Bouw|Logistics|Techniek|Distribution|Trading # NV|BV|SRL|SA
IT # 9 # surname # Milano=20121|Roma=00184|Torino=10121|Bologna=40121|Verona=37121|Napoli=80133 # Via Roma|Via Garibaldi|Corso Italia|Via dell'Industria|Viale Europa # Rossi|Russo|Ferrari|Esposito|Bianchi|Romano|Colombo|Ricci|Marino|Greco # Impianti|Forniture|Meccanica|Elettronica|Logistica|Utensili # S.r.l.|S.p.A.
ES # 8 # trade # Madrid=28001|Barcelona=08001|Valencia=46001|Sevilla=41001|Bilbao=48001|Zaragoza=50001 # Calle Mayor|Avenida de la Constitución|Calle de la Industria|Paseo de Gracia|Polígono Industrial Norte # García|Fernández|González|Rodríguez|López|Martínez|Sánchez|Pérez|Gómez|Martín # Suministros|Distribuciones|Instalaciones|Ferretería|Logística|Maquinaria # S.L.|S.A.";

/// One line of a table above: its ` # `-separated fields, each split at `|`.
pub(super) type Fields = Vec<Vec<&'static str>>;

pub(super) fn table(text: &'static str) -> Vec<Fields> {
    text.lines()
        .map(|l| l.split(" # ").map(|f| f.split('|').collect()).collect())
        .collect()
}

/// `name=value` of a table cell.
pub(super) fn pair(cell: &'static str) -> (&'static str, &'static str) {
    cell.split_once('=').unwrap_or((cell, ""))
}

/// Picks a row of a table by the weight in its column `col`.
pub(super) fn weighted_row<'a>(rng: &mut Rng, rows: &'a [Fields], col: usize) -> &'a Fields {
    let weights: Vec<(usize, u32)> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (i, r[col][0].parse().unwrap_or(1)))
        .collect();
    &rows[rng.weighted(&weights)]
}

/// SplitMix64: tiny, fast, and the same sequence on every platform for a given seed.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// 0..n; n must be positive.
    pub(super) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// lo..=hi.
    pub(super) fn between(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
    pub(super) fn percent(&mut self, p: u64) -> bool {
        self.next() % 100 < p
    }
    pub(super) fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
    pub(super) fn weighted<T: Copy>(&mut self, xs: &[(T, u32)]) -> T {
        let total: u32 = xs.iter().map(|x| x.1).sum();
        let mut r = self.below(total as usize) as u32;
        for (v, w) in xs {
            if r < *w {
                return *v;
            }
            r -= w;
        }
        xs[xs.len() - 1].0
    }
}
