import type { CreateProductInput } from "@shop/domain/Catalog"

// The demo catalog a fresh shop starts with, in the wire form of
// `POST /api/admin/products`, so any runtime can seed it: through the Catalog
// service (Seed.ts) or through the HTTP API. Prices are USD cents.

export type DemoProduct = typeof CreateProductInput.Encoded
type DemoVariant = Extract<DemoProduct, { readonly variants: unknown }>["variants"][number]

const usd = (amount: number) => ({ amount, currency: "USD" })

const image = (sku: string) => `https://picsum.photos/seed/${sku}/600/600`

const skuPart = (text: string) => text.toUpperCase().replace(/[^A-Z0-9]+/g, "")

// One variant per size and colour, with the same price and stock unless an
// override is given for a size.
const grid = (
  sku: string,
  options: {
    readonly sizes: ReadonlyArray<string>
    readonly colors: ReadonlyArray<string>
    readonly price: number
    readonly stock: number
    readonly weightGrams: number
    readonly priceBySize?: Readonly<Record<string, number>>
  }
): Array<DemoVariant> =>
  options.colors.flatMap((color) =>
    options.sizes.map((size) => ({
      sku: `${sku}-${skuPart(color)}-${skuPart(size)}`,
      title: `${color} / ${size}`,
      price: usd(options.priceBySize?.[size] ?? options.price),
      attributes: { color, size },
      weightGrams: options.weightGrams,
      stock: options.stock
    }))
  )

export const products: ReadonlyArray<DemoProduct> = [
  // Apparel
  {
    sku: "TEE-CLASSIC",
    title: "Classic Cotton T-Shirt",
    description: "A soft, midweight T-shirt in organic cotton with a relaxed fit.",
    category: "apparel",
    images: [image("TEE-CLASSIC")],
    variants: grid("TEE-CLASSIC", {
      sizes: ["S", "M", "L", "XL"],
      colors: ["White", "Black", "Navy"],
      price: 1800,
      priceBySize: { XL: 2000 },
      stock: 40,
      weightGrams: 180
    })
  },
  {
    sku: "HOODIE-ZIP",
    title: "Zip Hoodie",
    description: "Brushed fleece hoodie with a full-length zip and kangaroo pockets.",
    category: "apparel",
    images: [image("HOODIE-ZIP")],
    variants: grid("HOODIE-ZIP", {
      sizes: ["S", "M", "L", "XL"],
      colors: ["Heather Grey", "Forest"],
      price: 5400,
      priceBySize: { XL: 5800 },
      stock: 15,
      weightGrams: 620
    })
  },
  {
    sku: "BEANIE-RIB",
    title: "Ribbed Wool Beanie",
    description: "Merino wool beanie with a fold-over cuff.",
    category: "apparel",
    images: [image("BEANIE-RIB")],
    variants: grid("BEANIE-RIB", {
      sizes: ["One size"],
      colors: ["Mustard", "Charcoal", "Rust"],
      price: 2400,
      stock: 30,
      weightGrams: 90
    })
  },
  {
    sku: "SOCKS-3PK",
    title: "Everyday Socks (3 pairs)",
    description: "Cushioned crew socks, three pairs per pack.",
    category: "apparel",
    images: [image("SOCKS-3PK")],
    price: usd(1500),
    stock: 120,
    weightGrams: 150
  },
  // Footwear
  {
    sku: "SNEAKER-LOW",
    title: "Canvas Low-Top Sneaker",
    description: "Vulcanised rubber sole, cotton canvas upper, cushioned insole.",
    category: "footwear",
    images: [image("SNEAKER-LOW")],
    variants: grid("SNEAKER-LOW", {
      sizes: ["40", "41", "42", "43", "44"],
      colors: ["Off-White", "Black"],
      price: 6500,
      stock: 12,
      weightGrams: 780
    })
  },
  {
    sku: "BOOT-TRAIL",
    title: "Trail Hiking Boot",
    description: "Waterproof leather hiking boot with a grippy lugged outsole.",
    category: "footwear",
    images: [image("BOOT-TRAIL")],
    variants: grid("BOOT-TRAIL", {
      sizes: ["41", "42", "43", "44", "45"],
      colors: ["Brown"],
      price: 14900,
      stock: 6,
      weightGrams: 1350
    })
  },
  {
    sku: "SLIPPER-WOOL",
    title: "Felted Wool Slippers",
    description: "Warm boiled-wool slippers with a suede sole.",
    category: "footwear",
    images: [image("SLIPPER-WOOL")],
    variants: grid("SLIPPER-WOOL", {
      sizes: ["S", "M", "L"],
      colors: ["Grey"],
      price: 3900,
      stock: 20,
      weightGrams: 400
    })
  },
  // Kitchen
  {
    sku: "MUG-STONE",
    title: "Stoneware Mug",
    description: "Hand-glazed stoneware mug, 350 ml. Dishwasher safe.",
    category: "kitchen",
    images: [image("MUG-STONE")],
    variants: grid("MUG-STONE", {
      sizes: ["350ml"],
      colors: ["Speckled White", "Ocean Blue", "Sage"],
      price: 1600,
      stock: 60,
      weightGrams: 380
    })
  },
  {
    sku: "KNIFE-CHEF",
    title: "Chef's Knife",
    description: "Forged stainless steel chef's knife with a full tang.",
    category: "kitchen",
    images: [image("KNIFE-CHEF")],
    variants: [
      {
        sku: "KNIFE-CHEF-15",
        title: "15 cm",
        price: usd(6900),
        attributes: { length: "15 cm" },
        weightGrams: 180,
        stock: 10
      },
      {
        sku: "KNIFE-CHEF-20",
        title: "20 cm",
        price: usd(8900),
        attributes: { length: "20 cm" },
        weightGrams: 230,
        stock: 14
      },
      {
        sku: "KNIFE-CHEF-25",
        title: "25 cm",
        price: usd(10900),
        attributes: { length: "25 cm" },
        weightGrams: 280,
        stock: 5
      }
    ]
  },
  {
    sku: "PAN-CAST",
    title: "Cast Iron Skillet",
    description: "Pre-seasoned cast iron skillet that goes from hob to oven.",
    category: "kitchen",
    images: [image("PAN-CAST")],
    variants: [
      {
        sku: "PAN-CAST-20",
        title: "20 cm",
        price: usd(3400),
        attributes: { diameter: "20 cm" },
        weightGrams: 1800,
        stock: 18
      },
      {
        sku: "PAN-CAST-26",
        title: "26 cm",
        price: usd(4600),
        attributes: { diameter: "26 cm" },
        weightGrams: 2700,
        stock: 11
      }
    ]
  },
  {
    sku: "KETTLE-POUR",
    title: "Pour-Over Kettle",
    description: "Gooseneck kettle for precise pour-over coffee, 1 litre.",
    category: "kitchen",
    images: [image("KETTLE-POUR")],
    price: usd(5900),
    stock: 9,
    weightGrams: 700
  },
  {
    sku: "BOARD-OAK",
    title: "Oak Cutting Board",
    description: "End-grain oak board, oiled and ready to use.",
    category: "kitchen",
    images: [image("BOARD-OAK")],
    price: usd(4200),
    stock: 16,
    weightGrams: 1500
  },
  // Home
  {
    sku: "THROW-LINEN",
    title: "Linen Throw Blanket",
    description: "Stonewashed linen throw, 130 x 170 cm.",
    category: "home",
    images: [image("THROW-LINEN")],
    variants: grid("THROW-LINEN", {
      sizes: ["130x170"],
      colors: ["Oat", "Terracotta", "Slate"],
      price: 7800,
      stock: 13,
      weightGrams: 900
    })
  },
  {
    sku: "CANDLE-SOY",
    title: "Soy Wax Candle",
    description: "Hand-poured soy candle in a reusable glass jar.",
    category: "home",
    images: [image("CANDLE-SOY")],
    variants: [
      {
        sku: "CANDLE-SOY-CEDAR-S",
        title: "Cedar / Small",
        price: usd(1800),
        attributes: { scent: "Cedar", size: "Small" },
        weightGrams: 250,
        stock: 35
      },
      {
        sku: "CANDLE-SOY-CEDAR-L",
        title: "Cedar / Large",
        price: usd(3200),
        attributes: { scent: "Cedar", size: "Large" },
        weightGrams: 520,
        stock: 20
      },
      {
        sku: "CANDLE-SOY-FIG-S",
        title: "Fig / Small",
        price: usd(1800),
        attributes: { scent: "Fig", size: "Small" },
        weightGrams: 250,
        stock: 28
      },
      {
        sku: "CANDLE-SOY-FIG-L",
        title: "Fig / Large",
        price: usd(3200),
        attributes: { scent: "Fig", size: "Large" },
        weightGrams: 520,
        stock: 17
      }
    ]
  },
  {
    sku: "LAMP-DESK",
    title: "Adjustable Desk Lamp",
    description: "Steel desk lamp with a weighted base and a warm LED bulb included.",
    category: "home",
    images: [image("LAMP-DESK")],
    variants: grid("LAMP-DESK", {
      sizes: ["Standard"],
      colors: ["Matte Black", "Cream"],
      price: 8900,
      stock: 8,
      weightGrams: 2100
    })
  },
  {
    sku: "PLANTER-TERRA",
    title: "Terracotta Planter",
    description: "Unglazed terracotta pot with a drainage hole and saucer.",
    category: "home",
    images: [image("PLANTER-TERRA")],
    variants: [
      {
        sku: "PLANTER-TERRA-12",
        title: "12 cm",
        price: usd(1200),
        attributes: { diameter: "12 cm" },
        weightGrams: 600,
        stock: 50
      },
      {
        sku: "PLANTER-TERRA-18",
        title: "18 cm",
        price: usd(1900),
        attributes: { diameter: "18 cm" },
        weightGrams: 1300,
        stock: 30
      },
      {
        sku: "PLANTER-TERRA-24",
        title: "24 cm",
        price: usd(2900),
        attributes: { diameter: "24 cm" },
        weightGrams: 2400,
        stock: 15
      }
    ]
  },
  // Outdoors
  {
    sku: "BOTTLE-STEEL",
    title: "Insulated Water Bottle",
    description: "Double-walled stainless bottle: cold for 24 hours, hot for 12.",
    category: "outdoors",
    images: [image("BOTTLE-STEEL")],
    variants: [
      {
        sku: "BOTTLE-STEEL-500-SAND",
        title: "500 ml / Sand",
        price: usd(2800),
        attributes: { capacity: "500 ml", color: "Sand" },
        weightGrams: 320,
        stock: 45
      },
      {
        sku: "BOTTLE-STEEL-500-MOSS",
        title: "500 ml / Moss",
        price: usd(2800),
        attributes: { capacity: "500 ml", color: "Moss" },
        weightGrams: 320,
        stock: 38
      },
      {
        sku: "BOTTLE-STEEL-750-SAND",
        title: "750 ml / Sand",
        price: usd(3400),
        attributes: { capacity: "750 ml", color: "Sand" },
        weightGrams: 410,
        stock: 25
      },
      {
        sku: "BOTTLE-STEEL-750-MOSS",
        title: "750 ml / Moss",
        price: usd(3400),
        attributes: { capacity: "750 ml", color: "Moss" },
        weightGrams: 410,
        stock: 22
      }
    ]
  },
  {
    sku: "TENT-2P",
    title: "Two-Person Backpacking Tent",
    description: "Freestanding three-season tent, 1.9 kg packed.",
    category: "outdoors",
    images: [image("TENT-2P")],
    price: usd(27900),
    stock: 4,
    weightGrams: 1900
  },
  {
    sku: "PACK-DAY",
    title: "Daypack 22 L",
    description: "Recycled nylon daypack with a padded laptop sleeve.",
    category: "outdoors",
    images: [image("PACK-DAY")],
    variants: grid("PACK-DAY", {
      sizes: ["22L"],
      colors: ["Black", "Ochre", "Teal"],
      price: 7400,
      stock: 19,
      weightGrams: 650
    })
  },
  {
    sku: "HEADLAMP-USB",
    title: "Rechargeable Headlamp",
    description: "400 lumen headlamp, USB-C rechargeable, red night mode.",
    category: "outdoors",
    images: [image("HEADLAMP-USB")],
    price: usd(3900),
    stock: 27,
    weightGrams: 85
  },
  // Electronics
  {
    sku: "EARBUDS-WL",
    title: "Wireless Earbuds",
    description: "Bluetooth earbuds with active noise cancelling and a charging case.",
    category: "electronics",
    images: [image("EARBUDS-WL")],
    variants: grid("EARBUDS-WL", {
      sizes: ["Standard"],
      colors: ["Black", "White"],
      price: 12900,
      stock: 21,
      weightGrams: 60
    })
  },
  {
    sku: "CHARGER-65W",
    title: "65 W USB-C Charger",
    description: "Compact GaN charger with two USB-C ports and one USB-A port.",
    category: "electronics",
    images: [image("CHARGER-65W")],
    price: usd(4500),
    stock: 33,
    weightGrams: 120
  },
  {
    sku: "KEYBOARD-MECH",
    title: "Mechanical Keyboard",
    description: "Tenkeyless mechanical keyboard with hot-swappable switches.",
    category: "electronics",
    images: [image("KEYBOARD-MECH")],
    variants: [
      {
        sku: "KEYBOARD-MECH-LINEAR",
        title: "Linear switches",
        price: usd(11900),
        attributes: { switches: "Linear" },
        weightGrams: 900,
        stock: 7
      },
      {
        sku: "KEYBOARD-MECH-TACTILE",
        title: "Tactile switches",
        price: usd(11900),
        attributes: { switches: "Tactile" },
        weightGrams: 900,
        stock: 9
      },
      {
        sku: "KEYBOARD-MECH-CLICKY",
        title: "Clicky switches",
        price: usd(12400),
        attributes: { switches: "Clicky" },
        weightGrams: 900,
        stock: 3
      }
    ]
  },
  // Stationery
  {
    sku: "NOTEBOOK-DOT",
    title: "Dot Grid Notebook",
    description: "A5 notebook, 192 numbered pages of 100 gsm paper, lay-flat binding.",
    category: "stationery",
    images: [image("NOTEBOOK-DOT")],
    variants: grid("NOTEBOOK-DOT", {
      sizes: ["A5"],
      colors: ["Black", "Kraft", "Red"],
      price: 1900,
      stock: 70,
      weightGrams: 340
    })
  },
  {
    sku: "PEN-FOUNTAIN",
    title: "Fountain Pen",
    description: "Aluminium fountain pen with a steel nib and a converter.",
    category: "stationery",
    images: [image("PEN-FOUNTAIN")],
    variants: [
      {
        sku: "PEN-FOUNTAIN-F",
        title: "Fine nib",
        price: usd(3500),
        attributes: { nib: "Fine" },
        weightGrams: 30,
        stock: 24
      },
      {
        sku: "PEN-FOUNTAIN-M",
        title: "Medium nib",
        price: usd(3500),
        attributes: { nib: "Medium" },
        weightGrams: 30,
        stock: 26
      },
      {
        sku: "PEN-FOUNTAIN-B",
        title: "Broad nib",
        price: usd(3800),
        attributes: { nib: "Broad" },
        weightGrams: 30,
        stock: 10
      }
    ]
  }
]
